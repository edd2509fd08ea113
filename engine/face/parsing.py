"""Face parsing (BiSeNet, 19 CelebAMask-HQ classes) for the neural engine's paste, as MuseTalk 1.5
uses it: the released ``face-parse-bisent/79999_iter.pth`` loads strictly into ``BiSeNet`` here
(the module tree reproduces the released parameter names), and ``jaw_mask`` turns its labels into
the region MuseTalk's "jaw" blending regenerates: skin spread down over the jaw line, minus the
nose, plus mouth and lips.

The ImageNet ResNet-18 (``resnet18-5c106cde.pth``) the release also ships only initialises the
backbone before training; ``79999_iter.pth`` holds the whole network, so it is not read.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

PARSING_FILE = "79999_iter.pth"
INPUT_SIZE = 512  # the network sees the expanded face crop at this size
SKIN, NOSE, MOUTH, UPPER_LIP, LOWER_LIP = 1, 10, 11, 12, 13
CHEEK_WIDTH = 90  # pixels either side of the centre (at INPUT_SIZE) where the jaw is not eroded
_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
_STD = np.array([0.229, 0.224, 0.225], np.float32)


def _modules():
    """The network's classes, built on first use so importing this module needs no torch."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    class ConvBNReLU(nn.Module):
        def __init__(self, cin: int, cout: int, ks: int = 3, padding: int = 1):
            super().__init__()
            self.conv = nn.Conv2d(cin, cout, ks, 1, padding, bias=False)
            self.bn = nn.BatchNorm2d(cout)

        def forward(self, x):
            return F.relu(self.bn(self.conv(x)))

    class BasicBlock(nn.Module):
        def __init__(self, cin: int, cout: int, stride: int):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.downsample = None
            if cin != cout or stride != 1:
                self.downsample = nn.Sequential(
                    nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)
                )

        def forward(self, x):
            out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
            shortcut = x if self.downsample is None else self.downsample(x)
            return F.relu(out + shortcut)

    def stage(cin: int, cout: int, stride: int) -> nn.Sequential:
        return nn.Sequential(BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1))

    class Backbone(nn.Module):  # ResNet-18 without its classifier; strides 8, 16, 32 out
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.layer1 = stage(64, 64, 1)
            self.layer2 = stage(64, 128, 2)
            self.layer3 = stage(128, 256, 2)
            self.layer4 = stage(256, 512, 2)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
            s8 = self.layer2(self.layer1(x))
            s16 = self.layer3(s8)
            return s8, s16, self.layer4(s16)

    class Refinement(nn.Module):  # features reweighted by their own global average
        def __init__(self, cin: int, cout: int):
            super().__init__()
            self.conv = ConvBNReLU(cin, cout)
            self.conv_atten = nn.Conv2d(cout, cout, 1, bias=False)
            self.bn_atten = nn.BatchNorm2d(cout)

        def forward(self, x):
            feat = self.conv(x)
            weight = self.bn_atten(self.conv_atten(feat.mean((2, 3), keepdim=True)))
            return feat * torch.sigmoid(weight)

    class ContextPath(nn.Module):
        def __init__(self):
            super().__init__()
            self.resnet = Backbone()
            self.arm16 = Refinement(256, 128)
            self.arm32 = Refinement(512, 128)
            self.conv_head32 = ConvBNReLU(128, 128)
            self.conv_head16 = ConvBNReLU(128, 128)
            self.conv_avg = ConvBNReLU(512, 128, ks=1, padding=0)

        def forward(self, x):
            s8, s16, s32 = self.resnet(x)
            context = self.conv_avg(s32.mean((2, 3), keepdim=True))
            up32 = F.interpolate(self.arm32(s32) + context, s16.shape[2:], mode="nearest")
            up32 = self.conv_head32(up32)
            up16 = F.interpolate(self.arm16(s16) + up32, s8.shape[2:], mode="nearest")
            return s8, self.conv_head16(up16), up32

    class Fusion(nn.Module):
        def __init__(self, cin: int, cout: int):
            super().__init__()
            self.convblk = ConvBNReLU(cin, cout, ks=1, padding=0)
            self.conv1 = nn.Conv2d(cout, cout // 4, 1, bias=False)
            self.conv2 = nn.Conv2d(cout // 4, cout, 1, bias=False)

        def forward(self, spatial, context):
            feat = self.convblk(torch.cat([spatial, context], dim=1))
            weight = self.conv2(F.relu(self.conv1(feat.mean((2, 3), keepdim=True))))
            return feat * torch.sigmoid(weight) + feat

    class Head(nn.Module):
        def __init__(self, cin: int, mid: int, classes: int):
            super().__init__()
            self.conv = ConvBNReLU(cin, mid)
            self.conv_out = nn.Conv2d(mid, classes, 1, bias=False)

        def forward(self, x):
            return self.conv_out(self.conv(x))

    class BiSeNet(nn.Module):
        """Context path on ResNet-18, its stride-8 features standing in for the spatial path.
        ``conv_out16``/``conv_out32`` are the training-time auxiliary heads: kept so the
        released state dict loads strictly, never run."""

        def __init__(self, classes: int = 19):
            super().__init__()
            self.cp = ContextPath()
            self.ffm = Fusion(256, 256)
            self.conv_out = Head(256, 256, classes)
            self.conv_out16 = Head(128, 64, classes)
            self.conv_out32 = Head(128, 64, classes)

        def forward(self, x):
            s8, context8, _ = self.cp(x)
            logits = self.conv_out(self.ffm(s8, context8))
            return F.interpolate(logits, x.shape[2:], mode="bilinear", align_corners=True)

    return BiSeNet


def build_bisenet():
    """An untrained BiSeNet whose state dict has the released checkpoint's names and shapes."""
    return _modules()()


class FaceParser:
    """Labels every pixel of a face crop with one of 19 classes (0 background, 1 skin,
    10 nose, 11 mouth, 12 upper lip, 13 lower lip, ...)."""

    def __init__(self, path: str | Path, device: str = "cpu"):
        import torch

        from engine.errors import FaceWeightsMissing

        self.net = build_bisenet()
        state = torch.load(path, map_location="cpu", weights_only=True)
        try:
            self.net.load_state_dict(state, strict=True)
        except RuntimeError as error:
            first = str(error).splitlines()[1:2] or [""]
            raise FaceWeightsMissing(
                f"{path} is not the face-parsing BiSeNet MuseTalk ships: {first[0].strip()}"
            ) from error
        self.net.to(device).eval().requires_grad_(False)
        self.device = device

    def labels(self, rgb: np.ndarray) -> np.ndarray:
        """Class per pixel of ``rgb`` (uint8, H x W x 3), at INPUT_SIZE x INPUT_SIZE."""
        import torch

        image = cv2.resize(rgb, (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_LINEAR)
        pixels = (image.astype(np.float32) / 255.0 - _MEAN) / _STD
        batch = torch.from_numpy(pixels).permute(2, 0, 1)[None].to(self.device)
        with torch.inference_mode():
            return self.net(batch)[0].argmax(0).cpu().numpy().astype(np.uint8)


def _cone_kernel() -> np.ndarray:
    """MuseTalk's structuring element for spreading skin over the jaw: an upward-opening cone
    (rows 10-20 widen from 1 to 21 pixels) on a 21-pixel-wide stem, in a 33 x 33 square."""
    kernel = np.zeros((33, 33), np.uint8)
    for row in range(10, 21):
        half = row - 10
        kernel[row, 16 - half : 16 + half + 1] = 1
    kernel[21:, 6:27] = 1
    return kernel


def jaw_mask(labels: np.ndarray, cheek_width: int = CHEEK_WIDTH) -> np.ndarray:
    """The region MuseTalk 1.5 regenerates ("jaw" mode), 0 or 255 at the labels' size
    (INPUT_SIZE square): skin dilated by the cone, eroded flat on the cheeks (beyond
    ``cheek_width`` of the centre) so the mask stays inside the face there, minus the nose,
    plus mouth and lips."""
    size = labels.shape[1]
    skin = np.where(labels == SKIN, 255, 0).astype(np.uint8)
    spread = cv2.dilate(skin, _cone_kernel(), iterations=1)
    flat = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (35, 3))
    eroded = cv2.erode(spread, flat, iterations=2)
    columns = np.arange(size)
    cheeks = (columns <= size // 2 - cheek_width) | (columns >= size // 2 + cheek_width)
    region = np.where(cheeks[None, :], eroded, spread)
    keep = ((region == 255) & (labels != NOSE)) | np.isin(labels, (MOUTH, UPPER_LIP, LOWER_LIP))
    return np.where(keep, 255, 0).astype(np.uint8)
