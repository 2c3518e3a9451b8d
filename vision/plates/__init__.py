"""Licence plates: detect in a vehicle's box, rectify, read with LPRNet (ONNX), check the Chinese plate grammar."""
