"""Datamodules: embedded data, real loaders on files the tests create, and clear errors."""

import pickle
import struct

import numpy as np
import pytest
import torch
from PIL import Image

from litgan.data import (
    DigitsDataModule,
    ImageFolderDataModule,
    InMemoryBatches,
    TorchvisionDataModule,
    ToyDataModule,
)
from litgan.data.toy import grid_modes, ring_modes
from tests.helpers import write_celeba


def test_ring_and_grid_modes():
    ring = ring_modes()
    assert ring.shape == (8, 2) and torch.allclose(ring.norm(dim=1), torch.ones(8))
    grid = grid_modes()
    assert grid.shape == (25, 2) and set(grid[:, 0].tolist()) == {-4.0, -2.0, 0.0, 2.0, 4.0}


@pytest.mark.parametrize("distribution,std", [("ring", 0.01), ("grid", 0.05)])
def test_toy_samples_sit_around_their_modes(distribution, std):
    dm = ToyDataModule(distribution, num_samples=20_000)
    dm.setup()
    (points,) = dm.train_tensors
    nearest = torch.cdist(points, dm.modes).min(dim=1).values
    assert dm.std == std
    assert nearest.mean().item() == pytest.approx(std * np.sqrt(np.pi / 2), rel=0.05)  # Rayleigh mean
    assert (nearest < 3 * std).float().mean() > 0.98


def test_toy_data_is_seeded_and_independent_of_the_training_seed():
    a, b = (
        ToyDataModule("grid", num_samples=100, seed=1),
        ToyDataModule("grid", num_samples=100, seed=2),
    )
    a.setup(), b.setup()
    assert torch.equal(a.train_tensors[0], b.train_tensors[0])
    assert not torch.equal(a.train_tensors[0], a.val_tensors[0][:100])
    c = ToyDataModule("swissroll", num_samples=100)
    c.setup()
    assert c.train_tensors[0].shape == (100, 2) and c.modes is None


def test_unknown_toy_distribution_is_refused():
    with pytest.raises(ValueError, match="Unknown toy distribution 'moons'"):
        ToyDataModule("moons")


def test_in_memory_batches_resume_exactly_mid_epoch():
    data = (torch.arange(1000).float(),)
    loader = InMemoryBatches(data, batch_size=4, batches_per_step=5, seed=3)
    assert len(loader) == 1000 // 20
    iterator = iter(loader)
    first = [next(iterator)[0] for _ in range(7)]
    state = loader.state_dict()
    rest = [b[0] for b in iterator]
    resumed = InMemoryBatches(data, batch_size=4, batches_per_step=5, seed=3)
    resumed.load_state_dict(state)
    assert [torch.equal(a, b) for a, b in zip(rest, [b[0] for b in resumed])] == [True] * len(rest)
    assert len(first) + len(rest) == len(loader) and all(len(b) == 20 for b in first)


def test_in_memory_batches_shard_the_global_batch_across_processes():
    data = (torch.arange(1000).float(),)
    single = next(iter(InMemoryBatches(data, batch_size=8, batches_per_step=3, seed=5)))[0]
    shards = [
        next(iter(InMemoryBatches(data, batch_size=4, batches_per_step=3, seed=5, rank=r, world_size=2)))[0]
        for r in range(2)
    ]
    # critic update k of the single process sees exactly the union of the processes' k-th minibatches
    for k in range(3):
        assert torch.equal(torch.cat([s.chunk(3)[k] for s in shards]), single.chunk(3)[k])


def test_digits_are_labelled_32x32_images_in_unit_range_with_a_fixed_split():
    dm = DigitsDataModule()
    dm.setup()
    images, labels = dm.train_tensors
    assert images.shape[1:] == (1, 32, 32) and dm.data_shape == (1, 32, 32)
    assert images.min() >= -1 and images.max() <= 1 and images.min() < -0.99 and images.max() > 0.9
    assert set(labels.tolist()) == set(range(10))
    assert len(images) + len(dm.val_tensors[0]) == 1797
    again = DigitsDataModule(seed=123)
    again.setup()
    assert torch.equal(again.val_tensors[1], dm.val_tensors[1])


def write_idx(path, array: np.ndarray) -> None:
    magic = 2051 if array.ndim == 3 else 2049
    with open(path, "wb") as f:
        f.write(struct.pack(f">{array.ndim + 1}i", magic, *array.shape))
        f.write(array.astype(np.uint8).tobytes())


@pytest.mark.parametrize("name,folder", [("mnist", "MNIST"), ("fashion_mnist", "FashionMNIST")])
def test_mnist_style_loader_reads_idx_files(tmp_path, name, folder):
    raw = tmp_path / folder / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 12), ("t10k", 6)):
        write_idx(raw / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28)))
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", rng.integers(0, 10, (n,)))
    dm = TorchvisionDataModule(name, str(tmp_path), batch_size=4, num_workers=0)
    dm.setup()
    assert len(dm.train_set) == 12 and len(dm.val_set) == 6
    image, label = dm.train_set[0]
    assert image.shape == (1, 32, 32) and -1 <= image.min() and image.max() <= 1
    batch = next(iter(dm.train_dataloader()))
    assert batch[0].shape == (4, 1, 32, 32)


def test_cifar10_loader_reads_python_batches(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        with open(folder / name, "wb") as f:
            pickle.dump({"data": rng.integers(0, 256, (3, 3072), dtype=np.uint8), "labels": [0, 1, 2]}, f)
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"label_names": [f"class{i}" for i in range(10)]}, f)
    dm = TorchvisionDataModule("cifar10", str(tmp_path), num_workers=0)
    dm.setup()
    assert len(dm.train_set) == 15 and len(dm.val_set) == 3
    assert dm.train_set[0][0].shape == (3, 32, 32)


@pytest.mark.parametrize("name", ["mnist", "cifar10"])
def test_missing_torchvision_data_says_where_to_put_it(tmp_path, name):
    dm = TorchvisionDataModule(name, str(tmp_path / "nowhere"), num_workers=0)
    with pytest.raises(FileNotFoundError, match="never downloads"):
        dm.setup()


def test_image_folder_reads_nested_images_and_names_corrupt_files(tmp_path):
    rng = np.random.default_rng(0)
    (tmp_path / "a" / "b").mkdir(parents=True)
    for i in range(10):
        folder = tmp_path / ("a" if i % 2 else "a/b")
        Image.fromarray(rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)).save(folder / f"img{i}.png")
    dm = ImageFolderDataModule(str(tmp_path), channels=3, image_size=32, val_every=5, num_workers=0)
    dm.setup()
    assert len(dm.train_set) == 8 and len(dm.val_set) == 2
    assert dm.train_set[0][0].shape == (3, 32, 32)
    (tmp_path / "a" / "broken.jpg").write_bytes(b"not an image")
    with pytest.raises(ValueError, match=r"1 of 11 images cannot be read; remove or replace them: .*broken\.jpg"):
        ImageFolderDataModule(str(tmp_path), image_size=32, num_workers=0).setup()
    (tmp_path / "a" / "img1.png").write_bytes(b"damaged after the check")  # e.g. a disk error mid-training
    with pytest.raises(ValueError, match=r"Cannot read image .*img1\.png"):
        dm.train_set[dm.train_set.files.index(str(tmp_path / "a" / "img1.png"))]


def test_image_folder_errors_are_specific(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ImageFolderDataModule(str(tmp_path / "missing")).setup()
    with pytest.raises(FileNotFoundError, match="No images"):
        ImageFolderDataModule(str(tmp_path)).setup()


def test_shapes_are_seeded_labelled_and_render_their_attributes():
    from litgan.data.shapes import ATTRIBUTES, ShapesDataModule

    dm = ShapesDataModule(num_samples=300, num_val_samples=50, label="color")
    dm.setup()
    images, labels, codes = dm.train_tensors
    assert images.shape == (300, 3, 32, 32) and dm.num_classes == 3 and torch.equal(labels, codes[:, 1])
    again = ShapesDataModule(num_samples=300, num_val_samples=50, label="color", seed=9)
    again.setup()
    assert torch.equal(again.train_tensors[0], images)  # data_seed, not the training seed
    # ground truth is visible: the dominant channel of the centre pixel is the shape's colour
    centre = images[:, :, 16, 16].argmax(dim=1)
    assert (centre == labels).float().mean() > 0.95
    # the background attribute sets the corner pixel's brightness
    dark = codes[:, 3] == ATTRIBUTES["background"].index("dark")
    assert (images[dark, :, 0, 0].mean(1) < 0).all() and (images[~dark, :, 0, 0].mean(1) > 0).all()
    light = ShapesDataModule(num_samples=100, background="light")
    light.setup()
    assert (light.train_tensors[2][:, 3] == 1).all()


def test_celeba_loader_reads_images_and_chosen_attributes(tmp_path):
    from litgan.data import CelebADataModule

    write_celeba(tmp_path)
    dm = CelebADataModule(str(tmp_path), attributes=("Blond_Hair", "Male"), image_size=32, val_count=2, num_workers=0)
    dm.setup()
    assert len(dm.train_set) == 4 and len(dm.val_set) == 2 and dm.domain_groups == [1, 1]
    image, attributes = dm.train_set[1]
    assert image.shape == (3, 32, 32) and -1 <= image.min() and image.max() <= 1
    # row 1: column j of the file is 1 when (1 + j) is odd; Blond_Hair is j = 2, Male j = 4
    assert attributes.tolist() == [1.0, 1.0]
    assert dm.train_set[0][1].tolist() == [0.0, 0.0]


def test_celeba_errors_name_the_problem(tmp_path):
    from litgan.data import CelebADataModule

    with pytest.raises(FileNotFoundError, match="list_attr_celeba.txt"):
        CelebADataModule(str(tmp_path), num_workers=0).setup()
    write_celeba(tmp_path)
    with pytest.raises(ValueError, match=r"Unknown CelebA attributes \['Bald'\]"):
        CelebADataModule(str(tmp_path), attributes=("Bald",), num_workers=0).setup()


def test_a_validation_reads_a_fixed_number_of_images_and_the_metrics_a_seeded_sample(tmp_path):
    rng = np.random.default_rng(0)
    for index in range(200):
        Image.fromarray(rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)).save(tmp_path / f"{index:03d}.png")
    datamodule = ImageFolderDataModule(
        root=str(tmp_path), image_size=8, val_every=2, val_batch_size=16, num_workers=0, num_val_samples=40
    )
    datamodule.setup("fit")
    assert len(datamodule.val_set) == 100
    assert sum(len(batch[0]) for batch in datamodule.val_dataloader()) == 40, "however large the held-out split"
    sample = torch.cat(list(datamodule.real_batches("train", 16, limit=30)))
    assert len(sample) == 30 and torch.equal(sample, torch.cat(list(datamodule.real_batches("train", 16, limit=30))))
    first = torch.cat(list(datamodule.real_batches("train", 16, limit=None)))[:30]
    assert not torch.equal(sample, first), "a sample of the whole split, not its first files"
