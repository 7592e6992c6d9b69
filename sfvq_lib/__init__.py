"""sfvq_lib: interpret GAN latent spaces with space-filling vector quantization.

The public API::

    from sfvq_lib import SFVQ, curve, baselines
    q = SFVQ(bits=6, random_state=0).fit(W)   # W: (n_samples, w_dim)
    t = q.transform(W)                        # fractional curve index per sample
    d = curve.line_directions(q.codebook_)    # (2**bits - 1, w_dim) edit directions
"""

from . import baselines, curve
from .layer import SFVQLayer
from .sfvq import SFVQ

__version__ = "0.1.0"

__all__ = ["SFVQ", "SFVQLayer", "baselines", "curve", "__version__"]
