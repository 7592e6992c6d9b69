"""sfvq_lib: interpret GAN latent spaces with space-filling vector quantization.

The public API::

    from sfvq_lib import SFVQ, curve, baselines, load_generator
    g = load_generator("builtin:shapes-stylegan")
    W = g.sample(20000, space="w")              # (n_samples, w_dim)
    q = SFVQ(bits=6, random_state=0).fit(W)
    t = q.transform(W)                        # fractional curve index per sample
    d = curve.line_directions(q.codebook_)    # (2**bits - 1, w_dim) edit directions
"""

__version__ = "0.1.0"

from . import baselines, curve  # noqa: E402
from .gan import load_generator  # noqa: E402
from .layer import SFVQLayer  # noqa: E402
from .sfvq import SFVQ  # noqa: E402

__all__ = ["SFVQ", "SFVQLayer", "baselines", "curve", "load_generator", "__version__"]
