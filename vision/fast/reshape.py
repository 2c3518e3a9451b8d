"""Give a static 1x3x640x640 YOLO11/YOLOv8 IR another input size and batch.

`ov.Model.reshape` alone fails on Ultralytics' exports: the attention block (C2PSA) and the box
head carry their shapes as constants (view to [1, 2, 128, 400], anchors [1, 2, 8400]). This
rewrites those constants for the new size, then reshapes. A 16:9 camera frame letterboxed to
640x384 instead of 640x640 is 40% fewer pixels through the network.
"""
import numpy as np
import openvino as ov

STRIDES = (8, 16, 32)


def grid_sizes(height: int, width: int) -> list[tuple[int, int]]:
    """(rows, columns) of each detection level."""
    if height % STRIDES[-1] or width % STRIDES[-1]:
        raise ValueError(f"input {height}x{width} must be a multiple of {STRIDES[-1]}")
    return [(height // s, width // s) for s in STRIDES]


def make_anchors(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Ultralytics' make_anchors as constants: (1, 2, A) cell centres in grid units and (1, 1, A) strides."""
    points, strides = [], []
    for (rows, columns), stride in zip(grid_sizes(height, width), STRIDES):
        ys, xs = np.meshgrid(np.arange(rows) + 0.5, np.arange(columns) + 0.5, indexing="ij")
        points.append(np.stack([xs.ravel(), ys.ravel()]))
        strides.append(np.full(rows * columns, stride))
    return (np.concatenate(points, axis=1)[None].astype(np.float32),
            np.concatenate(strides)[None, None].astype(np.float32))


def reshape_yolo(model: ov.Model, *, batch: int, height: int, width: int) -> ov.Model:
    """The model (changed in place) taking [batch, 3, height, width]; its output [batch, 4 + classes, anchors]."""
    old_shape = tuple(model.input(0).get_shape())
    if old_shape[0] != 1 or old_shape[2] != old_shape[3]:
        raise ValueError(f"expected a static [1, 3, S, S] model, got {old_shape}")
    old_grids, new_grids = grid_sizes(old_shape[2], old_shape[3]), grid_sizes(height, width)
    old_anchors, new_anchors = sum(r * c for r, c in old_grids), sum(r * c for r, c in new_grids)
    (old_rows, old_cols), (new_rows, new_cols) = old_grids[-1], new_grids[-1]
    expected_anchors, expected_strides = make_anchors(old_shape[2], old_shape[3])
    anchors, strides = make_anchors(height, width)
    replaced = 0
    # The new input shape first, constants next, one validation at the end (model.reshape would check the old ones).
    model.get_parameters()[0].set_partial_shape(ov.PartialShape([batch, 3, height, width]))
    for op in model.get_ordered_ops():
        kind = op.get_type_name()
        if kind == "Constant" and tuple(op.get_output_shape(0)) in {(1, 2, old_anchors), (1, 1, old_anchors)}:
            old = op.get_data()
            new, expected = (anchors, expected_anchors) if old.shape[1] == 2 else (strides, expected_strides)
            if not np.array_equal(old, expected):  # only the layout this code knows how to rebuild
                raise ValueError(f"{op.get_friendly_name()}: anchor constant not laid out as Ultralytics' make_anchors")
            _replace(op.output(0), ov.op.Constant(new))
            replaced += 1
        elif kind == "Reshape" and op.input_value(1).get_node().get_type_name() == "Constant":
            target = op.input_value(1).get_node().get_data().astype(np.int64).tolist()
            new_target = [batch if i == 0 and v == 1 else v for i, v in enumerate(target)]
            new_target = [new_anchors if v == old_anchors else new_rows * new_cols if v == old_rows * old_cols else v
                          for v in new_target]
            if len(new_target) == 4 and new_target[2:] == [old_rows, old_cols]:
                new_target[2:] = [new_rows, new_cols]
            op.input(1).replace_source_output(ov.op.Constant(np.array(new_target, np.int64)).output(0))
    if replaced != 2:
        raise ValueError(f"found {replaced} anchor constants, expected 2 (anchor points and strides)")
    model.validate_nodes_and_infer_types()
    output = tuple(model.output(0).get_partial_shape().to_shape())
    if output[0] != batch or output[2] != new_anchors:
        raise ValueError(f"reshaped output {output}, expected [{batch}, 4 + classes, {new_anchors}]")
    return model


def _replace(output: ov.Output, constant: ov.Node) -> None:
    for target in list(output.get_target_inputs()):
        target.replace_source_output(constant.output(0))
