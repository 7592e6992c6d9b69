"""A tiny module with NVIDIA's G_ema interface (for the python: and nvidia: paths)."""

import torch
from torch import nn


class _Mapping(nn.Module):
    def __init__(self, z_dim, w_dim, num_ws):
        super().__init__()
        self.fc = nn.Linear(z_dim, w_dim)
        self.num_ws = num_ws
        self.register_buffer("w_avg", torch.zeros(w_dim))

    def forward(self, z, c, truncation_psi=1, truncation_cutoff=None, update_emas=False):
        ws = self.fc(z).unsqueeze(1).repeat(1, self.num_ws, 1)
        return self.w_avg.lerp(ws, truncation_psi)


class _Affine(nn.Module):
    def __init__(self, w_dim, out):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out, w_dim))


class _Layer(nn.Module):
    def __init__(self, w_dim, out):
        super().__init__()
        self.affine = _Affine(w_dim, out)


class _Synthesis(nn.Module):
    def __init__(self, w_dim, num_ws, res):
        super().__init__()
        self.layers = nn.ModuleList(_Layer(w_dim, 4) for _ in range(num_ws))
        self.num_ws, self.w_dim, self.res = num_ws, w_dim, res

    def forward(self, ws, noise_mode="random", force_fp32=False):
        assert ws.shape[1:] == (self.num_ws, self.w_dim)
        s = torch.stack(
            [layer.affine.weight.mean() + ws[:, i].mean(1) for i, layer in enumerate(self.layers)], 1
        )
        img = torch.tanh(s.mean(1)).reshape(-1, 1, 1, 1)
        return img.expand(-1, 3, self.res, self.res)


class FakeG(nn.Module):
    def __init__(self, z_dim=6, w_dim=5, num_ws=4, res=8):
        super().__init__()
        torch.manual_seed(0)
        self.z_dim, self.c_dim, self.w_dim, self.num_ws = z_dim, 0, w_dim, num_ws
        self.img_resolution, self.img_channels = res, 3
        self.mapping = _Mapping(z_dim, w_dim, num_ws)
        self.synthesis = _Synthesis(w_dim, num_ws, res)


def make():
    return FakeG()
