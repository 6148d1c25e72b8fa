"""CAM++ speaker embeddings (3D-Speaker), vendored for offline use, and a pyannote adapter.

Adapted from 3D-Speaker, https://github.com/modelscope/3D-Speaker, file
``speakerlab/models/campplus/DTDNN.py`` with its layers from ``layers.py``
(via the copy in the ``senko`` 0.2.2 wheel, ``senko/camplusplus.py``).
Copyright (c) Alibaba, Inc. and its affiliates (3D-Speaker). Licensed under the
Apache License, Version 2.0: https://www.apache.org/licenses/LICENSE-2.0

Changes from the original: inference only (the gradient-checkpointing branch and the
weight initialisation are gone, the weights always come from a state dict), type hints,
shape comments, and the Kaldi fbank front end that the released checkpoints expect
(``fbank``). Module and parameter names are unchanged, so the released state dicts
(``campplus_cn_en_common.pt``: 192-d, trained on Chinese and English) load strictly.
The final layer is 3D-Speaker's (``DenseLayer(config_str="batchnorm_")``: batch norm without
affine and *without* ReLU); senko's copy adds a ReLU there, which squeezes every embedding into
the positive orthant (espeak voices: different-voice cosine 0.48-0.63 instead of 0.31-0.50).

``CampPlusEmbedding`` adapts the network to pyannote.audio's embedding interface (a
``pyannote.audio.Model`` whose ``forward(waveforms, weights)`` honours per-frame speaker masks),
so ``SpeakerDiarization(embedding=CampPlusEmbedding(path))`` uses it with no hub access.
Importing this module imports torch and pyannote.audio (seconds): import it lazily.
"""

from __future__ import annotations

import math
from collections import OrderedDict

import torch
import torch.nn.functional as F  # noqa: N812 (the usual torch alias)
from pyannote.audio import Model
from torch import nn

SAMPLE_RATE = 16000  # Hz; the released checkpoints were trained on 16 kHz audio
NUM_MEL_BINS = 80  # fbank features per frame
FRAME_LENGTH_MS = 25.0  # fbank analysis window
FRAME_SHIFT_MS = 10.0  # fbank hop: one feature frame per 10 ms
WINDOW_SAMPLES = int(SAMPLE_RATE * FRAME_LENGTH_MS / 1000)  # 400: shortest input with a frame
HOP_SAMPLES = int(SAMPLE_RATE * FRAME_SHIFT_MS / 1000)  # 160
MIN_FRAMES = 25  # fewest fbank frames (about 0.25 s of speech) worth an embedding


def num_fbank_frames(num_samples: int) -> int:
    """Frames ``fbank`` returns for num_samples samples (Kaldi's snip_edges=True framing)."""
    if num_samples < WINDOW_SAMPLES:
        return 0
    return 1 + (num_samples - WINDOW_SAMPLES) // HOP_SAMPLES


def fbank(waveform: torch.Tensor) -> torch.Tensor:
    """80-bin log Mel filterbank of one mono 16 kHz waveform, as 3D-Speaker computes it.

    waveform: (num_samples,) float in [-1, 1]. Returns (num_frames, 80), one frame per 10 ms,
    **not** mean-normalised: callers normalise over the frames they keep (e.g. only the frames
    of one speaker), which a full-window mean would blur.
    """
    from torchaudio.compliance import kaldi  # imported here: torchaudio is slow to import

    if waveform.numel() < WINDOW_SAMPLES:
        raise ValueError(
            f"waveform too short for one fbank frame ({waveform.numel()} < {WINDOW_SAMPLES})"
        )
    # 3D-Speaker's FBank(80, 16000, mean_nor=True) uses kaldi.fbank defaults (povey window,
    # snip edges) with dither 0 at inference; the waveform scale only shifts every log-mel
    # bin by a constant, which mean normalisation removes
    return kaldi.fbank(
        waveform[None].float(),
        num_mel_bins=NUM_MEL_BINS,
        frame_length=FRAME_LENGTH_MS,
        frame_shift=FRAME_SHIFT_MS,
        sample_frequency=SAMPLE_RATE,
        dither=0.0,
    )


class BasicResBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=3, stride=(stride, 1), padding=1,
                               bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != self.expansion * planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, self.expansion * planes, kernel_size=1, stride=(stride, 1),
                          bias=False),
                nn.BatchNorm2d(self.expansion * planes),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class FCM(nn.Module):
    """2-D convolutional front end: (B, F, T) -> (B, C * F / 8, T); strides only on frequency."""

    def __init__(self, block: type[BasicResBlock] = BasicResBlock,
                 num_blocks: tuple[int, int] = (2, 2), m_channels: int = 32,
                 feat_dim: int = 80) -> None:
        super().__init__()
        self.in_planes = m_channels
        self.conv1 = nn.Conv2d(1, m_channels, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(m_channels)
        self.layer1 = self._make_layer(block, m_channels, num_blocks[0], stride=2)
        self.layer2 = self._make_layer(block, m_channels, num_blocks[1], stride=2)
        self.conv2 = nn.Conv2d(m_channels, m_channels, kernel_size=3, stride=(2, 1), padding=1,
                               bias=False)
        self.bn2 = nn.BatchNorm2d(m_channels)
        self.out_channels = m_channels * (feat_dim // 8)

    def _make_layer(self, block: type[BasicResBlock], planes: int, num_blocks: int,
                    stride: int) -> nn.Sequential:
        layers = []
        for s in [stride] + [1] * (num_blocks - 1):
            layers.append(block(self.in_planes, planes, s))
            self.in_planes = planes * block.expansion
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.unsqueeze(1)  # (B, 1, F, T)
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer1(out)
        out = self.layer2(out)
        out = F.relu(self.bn2(self.conv2(out)))  # (B, C, F / 8, T)
        b, c, f, t = out.shape
        return out.reshape(b, c * f, t)


def get_nonlinear(channels: int) -> nn.Sequential:
    return nn.Sequential(OrderedDict([("batchnorm", nn.BatchNorm1d(channels)),
                                      ("relu", nn.ReLU(inplace=True))]))


class StatsPool(nn.Module):
    """Mean and standard deviation over time: (B, C, T) -> (B, 2C)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(dim=-1)
        if x.size(-1) > 1:
            std = x.std(dim=-1, unbiased=True)
        else:  # one frame has no spread; 3D-Speaker uses a small constant
            std = torch.zeros_like(mean) + 1e-2
        return torch.cat([mean, std], dim=-1)


class TDNNLayer(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 padding: int = 0, dilation: int = 1, bias: bool = False) -> None:
        super().__init__()
        if padding < 0:  # "same" padding
            assert kernel_size % 2 == 1, f"expect an odd kernel size, got {kernel_size}"
            padding = (kernel_size - 1) // 2 * dilation
        self.linear = nn.Conv1d(in_channels, out_channels, kernel_size, stride=stride,
                                padding=padding, dilation=dilation, bias=bias)
        self.nonlinear = get_nonlinear(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.nonlinear(self.linear(x))


class CAMLayer(nn.Module):
    """Context-aware masking: a TDNN whose output is gated by utterance- and segment-level
    context (mean over all frames plus mean over 100-frame segments)."""

    def __init__(self, bn_channels: int, out_channels: int, kernel_size: int, stride: int,
                 padding: int, dilation: int, bias: bool, reduction: int = 2) -> None:
        super().__init__()
        self.linear_local = nn.Conv1d(bn_channels, out_channels, kernel_size, stride=stride,
                                      padding=padding, dilation=dilation, bias=bias)
        self.linear1 = nn.Conv1d(bn_channels, bn_channels // reduction, 1)
        self.relu = nn.ReLU(inplace=True)
        self.linear2 = nn.Conv1d(bn_channels // reduction, out_channels, 1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.linear_local(x)
        context = x.mean(-1, keepdim=True) + self.seg_pooling(x)
        return y * self.sigmoid(self.linear2(self.relu(self.linear1(context))))

    @staticmethod
    def seg_pooling(x: torch.Tensor, seg_len: int = 100) -> torch.Tensor:
        """Average over consecutive seg_len-frame segments, broadcast back: (B, C, T)."""
        seg = F.avg_pool1d(x, kernel_size=seg_len, stride=seg_len, ceil_mode=True)
        seg = seg.unsqueeze(-1).expand(*seg.shape, seg_len).reshape(*seg.shape[:-1], -1)
        return seg[..., : x.shape[-1]]


class CAMDenseTDNNLayer(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, bn_channels: int, kernel_size: int,
                 stride: int = 1, dilation: int = 1, bias: bool = False) -> None:
        super().__init__()
        assert kernel_size % 2 == 1, f"expect an odd kernel size, got {kernel_size}"
        padding = (kernel_size - 1) // 2 * dilation
        self.nonlinear1 = get_nonlinear(in_channels)
        self.linear1 = nn.Conv1d(in_channels, bn_channels, 1, bias=False)
        self.nonlinear2 = get_nonlinear(bn_channels)
        self.cam_layer = CAMLayer(bn_channels, out_channels, kernel_size, stride, padding,
                                  dilation, bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.cam_layer(self.nonlinear2(self.linear1(self.nonlinear1(x))))


class CAMDenseTDNNBlock(nn.ModuleList):
    """Densely connected CAM layers: each adds out_channels channels to its input."""

    def __init__(self, num_layers: int, in_channels: int, out_channels: int, bn_channels: int,
                 kernel_size: int, stride: int = 1, dilation: int = 1,
                 bias: bool = False) -> None:
        super().__init__()
        for i in range(num_layers):
            layer = CAMDenseTDNNLayer(in_channels + i * out_channels, out_channels, bn_channels,
                                      kernel_size, stride, dilation, bias)
            self.add_module(f"tdnnd{i + 1}", layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self:
            x = torch.cat([x, layer(x)], dim=1)
        return x


class TransitLayer(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, bias: bool = True) -> None:
        super().__init__()
        self.nonlinear = get_nonlinear(in_channels)
        self.linear = nn.Conv1d(in_channels, out_channels, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.nonlinear(x))


class DenseLayer(nn.Module):
    """Final projection of the pooled statistics: (B, C) -> (B, embedding_size)."""

    def __init__(self, in_channels: int, out_channels: int, bias: bool = False) -> None:
        super().__init__()
        self.linear = nn.Conv1d(in_channels, out_channels, 1, bias=bias)
        self.nonlinear = nn.Sequential(OrderedDict(
            [("batchnorm", nn.BatchNorm1d(out_channels, affine=False))]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2:
            return self.nonlinear(self.linear(x.unsqueeze(-1)).squeeze(-1))
        return self.nonlinear(self.linear(x))


class CAMPPlus(nn.Module):
    """CAM++ x-vector network: (B, T, 80) mean-normalised fbank -> (B, embedding_size)."""

    def __init__(self, feat_dim: int = NUM_MEL_BINS, embedding_size: int = 192,
                 growth_rate: int = 32, bn_size: int = 4, init_channels: int = 128) -> None:
        super().__init__()
        self.embedding_size = embedding_size
        self.head = FCM(feat_dim=feat_dim)
        channels = self.head.out_channels
        self.xvector = nn.Sequential(OrderedDict([
            ("tdnn", TDNNLayer(channels, init_channels, 5, stride=2, dilation=1, padding=-1)),
        ]))
        channels = init_channels
        for i, (num_layers, kernel_size, dilation) in enumerate([(12, 3, 1), (24, 3, 2),
                                                                 (16, 3, 2)]):
            block = CAMDenseTDNNBlock(num_layers=num_layers, in_channels=channels,
                                      out_channels=growth_rate, bn_channels=bn_size * growth_rate,
                                      kernel_size=kernel_size, dilation=dilation)
            self.xvector.add_module(f"block{i + 1}", block)
            channels = channels + num_layers * growth_rate
            self.xvector.add_module(f"transit{i + 1}", TransitLayer(channels, channels // 2,
                                                                     bias=False))
            channels //= 2
        self.xvector.add_module("out_nonlinear", get_nonlinear(channels))
        self.xvector.add_module("stats", StatsPool())
        self.xvector.add_module("dense", DenseLayer(channels * 2, embedding_size))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 2, 1)  # (B, T, F) -> (B, F, T)
        x = self.head(x)
        return self.xvector(x)


def load_campplus(path: str, embedding_size: int | None = None) -> CAMPPlus:
    """Build CAM++ from a released state dict, in eval mode on the CPU.

    The embedding size is read from the weights (``xvector.dense.linear.weight`` is
    (embedding_size, 2C, 1)); when ``embedding_size`` is given it must agree, so a wrong
    checkpoint fails here instead of producing meaningless vectors.
    """
    state = torch.load(path, map_location="cpu", weights_only=True)
    dense = state.get("xvector.dense.linear.weight")
    if dense is None:
        raise ValueError(f"{path}: not a CAM++ state dict (no xvector.dense.linear.weight)")
    found = int(dense.shape[0])
    if embedding_size is not None and found != embedding_size:
        raise ValueError(f"{path}: embedding size {found}, expected {embedding_size}")
    model = CAMPPlus(embedding_size=found)
    model.load_state_dict(state, strict=True)
    return model.eval()


class CampPlusEmbedding(Model):
    """CAM++ as a pyannote.audio embedding model (192-d, cosine metric, 16 kHz mono).

    pyannote's ``SpeakerDiarization`` calls ``forward(waveforms, weights=masks)`` once per
    (10 s chunk, local speaker) pair, the mask marking the frames where that speaker is active.
    Masked-out frames are dropped from the fbank features *before* the network sees them (and
    before mean normalisation), as pyannote's own ONNX WeSpeaker wrapper does: CAM++'s
    context-aware masking averages over the whole input, so merely excluding frames from the
    final statistics pooling would still leak the other speaker into the embedding. The price is
    that masked items cannot be batched (their lengths differ); they run one by one.
    """

    def __init__(self, checkpoint: str, embedding_size: int | None = 192) -> None:
        super().__init__(sample_rate=SAMPLE_RATE, num_channels=1)
        self.checkpoint = str(checkpoint)
        self.campplus = load_campplus(self.checkpoint, embedding_size)

    @property
    def dimension(self) -> int:
        return self.campplus.embedding_size

    def embed_features(self, feats: torch.Tensor) -> torch.Tensor:
        """(T, 80) raw fbank of the frames to use -> (embedding_size,); mean-normalised here."""
        feats = feats - feats.mean(dim=0, keepdim=True)
        return self.campplus(feats[None])[0]

    def forward(self, waveforms: torch.Tensor,
                weights: torch.Tensor | None = None) -> torch.Tensor:
        """Embed each waveform, optionally only over the frames its mask selects.

        waveforms: (batch, 1, num_samples) at 16 kHz. weights: (batch, num_mask_frames), frame
        weights spread evenly over each waveform (pyannote passes the binarised segmentation,
        589 frames per 10 s); frames with weight <= 0.5 are excluded. Returns
        (batch, dimension); a row is NaN when its mask keeps fewer than ``MIN_FRAMES`` frames,
        which pyannote's clustering treats as "no embedding". Without masks, an input shorter
        than ``MIN_FRAMES`` frames raises ValueError (pyannote probes ``min_num_samples`` so).
        """
        batch, channels, num_samples = waveforms.shape
        if channels != 1:
            raise ValueError(f"CAM++ expects mono waveforms, got {channels} channels")
        num_frames = num_fbank_frames(num_samples)
        if weights is None and num_frames < MIN_FRAMES:
            raise ValueError(f"input too short for CAM++ ({num_samples} samples)")
        out = torch.full((batch, self.dimension), math.nan, device=waveforms.device)
        if num_frames < MIN_FRAMES:
            return out
        if weights is None:
            keep = torch.ones((batch, num_frames), dtype=torch.bool, device=waveforms.device)
        else:
            # nearest-neighbour resampling of the mask onto the fbank frame grid (10 ms)
            keep = F.interpolate(weights[:, None].float(), size=num_frames,
                                 mode="nearest")[:, 0] > 0.5
        previous: tuple[torch.Tensor, torch.Tensor] | None = None  # (waveform, its fbank)
        for b in range(batch):
            if int(keep[b].sum()) < MIN_FRAMES:
                continue
            wave = waveforms[b, 0]
            # pyannote sends the same chunk once per local speaker: compute its fbank once
            if previous is not None and torch.equal(previous[0], wave):
                feats = previous[1]
            else:
                feats = fbank(wave)  # (num_frames, 80)
                previous = (wave, feats)
            out[b] = self.embed_features(feats[keep[b]])  # feats[keep[b]]: (kept, 80)
        return out
