from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "data" / "reference" / "official-sfvq"
SHARED_REFERENCE = ROOT.parent / "shared" / "reference" / "official-sfvq"


@pytest.fixture(scope="session")
def ring_2d() -> np.ndarray:
    """4,000 points on a noisy ring of radius 3 (float32)."""
    rng = np.random.default_rng(0)
    theta = rng.uniform(0, 2 * np.pi, 4000)
    radius = 3 + 0.3 * rng.standard_normal(4000)
    return (np.c_[np.cos(theta), np.sin(theta)] * radius[:, None]).astype(np.float32)


@pytest.fixture(scope="session")
def gauss_16d() -> np.ndarray:
    """2,048 anisotropic Gaussian points in 16-D with a non-zero mean (float32)."""
    rng = np.random.default_rng(1)
    scale = np.linspace(3.0, 0.5, 16)
    return (rng.standard_normal((2048, 16)) * scale + 2.0).astype(np.float32)


@pytest.fixture(scope="session")
def fitted_ring(ring_2d):
    from sfvq_lib import SFVQ

    return SFVQ(bits=5, n_epochs=5, lr=0.01, random_state=0, progress=False).fit(ring_2d)
