"""LPRNet (Zherzdev & Gruzdev 2018) as in sirius-ai/LPRNet_Pytorch, written from the state_dict; export to ONNX.

Only `python -m vision plates export` imports this module: the hot path runs the exported ONNX file.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import nn

INPUT_HW = (24, 94)
KEPT_LAYERS = (2, 6, 13, 22)  # backbone outputs that feed the global context


class SmallBasicBlock(nn.Module):
    """1x1 squeeze, 3x1 and 1x3 convolutions, 1x1 expand (state_dict `backbone.N.block.{0,2,4,6}`)."""

    def __init__(self, ch_in: int, ch_out: int) -> None:
        super().__init__()
        mid = ch_out // 4
        self.block = nn.Sequential(
            nn.Conv2d(ch_in, mid, kernel_size=1),
            nn.ReLU(),
            nn.Conv2d(mid, mid, kernel_size=(3, 1), padding=(1, 0)),
            nn.ReLU(),
            nn.Conv2d(mid, mid, kernel_size=(1, 3), padding=(0, 1)),
            nn.ReLU(),
            nn.Conv2d(mid, ch_out, kernel_size=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x)


class ChannelPool(nn.Module):
    """MaxPool3d over (channel, height, width) of a 4-D batch, as the original applies it (exportable to ONNX)."""

    def __init__(self, stride: tuple[int, int, int]) -> None:
        super().__init__()
        self.pool = nn.MaxPool3d(kernel_size=(1, 3, 3), stride=stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(x.unsqueeze(1)).squeeze(1)


class LPRNet(nn.Module):
    """Backbone of 23 layers plus a 1x1 `container` over four globally pooled feature maps; logits (N, C, 18)."""

    def __init__(self, class_num: int) -> None:
        super().__init__()
        self.backbone = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=3, stride=1),  # 0
            nn.BatchNorm2d(64),
            nn.ReLU(),  # 2
            ChannelPool(stride=(1, 1, 1)),
            SmallBasicBlock(64, 128),  # 4
            nn.BatchNorm2d(128),
            nn.ReLU(),  # 6
            ChannelPool(stride=(2, 1, 2)),
            SmallBasicBlock(64, 256),  # 8
            nn.BatchNorm2d(256),
            nn.ReLU(),  # 10
            SmallBasicBlock(256, 256),  # 11
            nn.BatchNorm2d(256),  # 12
            nn.ReLU(),  # 13
            ChannelPool(stride=(4, 1, 2)),  # 14
            nn.Dropout(0.0),
            nn.Conv2d(64, 256, kernel_size=(1, 4), stride=1),  # 16
            nn.BatchNorm2d(256),
            nn.ReLU(),  # 18
            nn.Dropout(0.0),
            nn.Conv2d(256, class_num, kernel_size=(13, 1), stride=1),  # 20
            nn.BatchNorm2d(class_num),
            nn.ReLU(),  # 22
        )
        self.container = nn.Sequential(nn.Conv2d(448 + class_num, class_num, kernel_size=1))
        self.pools = nn.ModuleList([nn.AvgPool2d(5, 5), nn.AvgPool2d(5, 5), nn.AvgPool2d((4, 10), (4, 2))])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kept = []
        for index, layer in enumerate(self.backbone):
            x = layer(x)
            if index in KEPT_LAYERS:
                kept.append(x)
        context = []
        for index, feature in enumerate(kept):
            if index < len(self.pools):
                feature = self.pools[index](feature)
            context.append(feature / torch.mean(feature.pow(2)))
        return torch.mean(self.container(torch.cat(context, 1)), dim=2)


def load_lprnet(weights: Path) -> LPRNet:
    """The network with the state_dict's weights, in eval mode; its class count comes from the last layer."""
    state = torch.load(weights, map_location="cpu", weights_only=True)
    model = LPRNet(class_num=state["container.0.bias"].shape[0])
    model.load_state_dict(state)
    return model.eval()


def export_onnx(weights: Path, out: Path) -> Path:
    """Write the recogniser as ONNX (input `image` N x 3 x 24 x 94, output `logits` N x C x 18)."""
    model = load_lprnet(weights)
    out.parent.mkdir(parents=True, exist_ok=True)
    dummy = torch.zeros(1, 3, *INPUT_HW)
    with warnings.catch_warnings():  # the TorchScript exporter on purpose: the dynamo one needs onnxscript
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            model, (dummy,), str(out), input_names=["image"], output_names=["logits"],
            dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}}, opset_version=17, dynamo=False,
        )
    return out
