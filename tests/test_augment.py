import pytest
import torch

from sfvq_lib.gan.augment import check_policy, diff_augment


def test_translation_shifts_whole_images_and_pads_with_zeros():
    x = torch.rand(16, 3, 16, 16) + 1  # no zeros inside
    y = diff_augment(x, ("translation",), torch.Generator().manual_seed(0))
    assert y.shape == x.shape
    for a, b in zip(x, y, strict=True):
        # some shift (dy, dx) within ±2 px reproduces the image where it is not padding
        found = False
        for dy in range(-2, 3):
            for dx in range(-2, 3):
                shifted = torch.roll(a, (dy, dx), dims=(1, 2))
                inside = b != 0
                if torch.equal(shifted[inside], b[inside]) and inside.float().mean() >= (14 / 16) ** 2 - 1e-6:
                    found = True
        assert found


def test_cutout_zeroes_one_square_and_gradients_flow():
    x = (torch.rand(8, 3, 16, 16) + 1).requires_grad_(True)
    y = diff_augment(x, ("cutout",), torch.Generator().manual_seed(1))
    zeros = (y == 0).all(dim=1).sum(dim=(1, 2))  # per image
    assert 0 < zeros.min() and zeros.max() <= 8 * 8
    y.sum().backward()
    assert torch.equal(x.grad, (y != 0).float())  # d/dx of the kept pixels is 1, of the cut ones 0
    # the same generator state gives the same augmentation (resumable training)
    a = diff_augment(x, ("translation", "cutout"), torch.Generator().manual_seed(2))
    b = diff_augment(x, ("translation", "cutout"), torch.Generator().manual_seed(2))
    assert torch.equal(a, b)


def test_policy_names():
    assert check_policy("translation,cutout") == ("translation", "cutout") and check_policy("") == ()
    with pytest.raises(ValueError, match="unknown augmentation"):
        check_policy("color")
