"""FID / IS / KID / precision-recall: agreement with torch-fidelity, behaviour, offline weights,
reference caching. No download: the tests write an InceptionV3 weights file with the real
architecture and seeded random parameters."""

from unittest import mock

import pytest
import torch
import torch_fidelity
from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

from litgan.data import DigitsDataModule
from litgan.metrics import precision_recall
from litgan.metrics.domain_classifier import load_or_train
from litgan.metrics.image_quality import ImageQuality
from litgan.metrics.inception import (
    InceptionFeatures,
    MissingInceptionWeights,
    find_inception_weights,
    to_uint8,
)
from litgan.metrics.precision_recall import PrecisionRecall, inside_manifold, knn_radii
from litgan.metrics.reference import compute_reference, load_or_compute_reference, reference_path


@pytest.fixture(scope="session")
def inception_weights(tmp_path_factory):
    """InceptionV3 as torch-fidelity builds it, with seeded random weights scaled to keep activations alive."""
    torch.manual_seed(0)
    with (
        mock.patch("torch.load", return_value={}),
        mock.patch.object(FeatureExtractorInceptionV3, "load_state_dict"),
    ):
        net = FeatureExtractorInceptionV3("inception-v3-compat", ["2048"], feature_extractor_weights_path="unused")
    for module in net.modules():
        if isinstance(module, torch.nn.Conv2d):
            torch.nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
        elif isinstance(module, torch.nn.Linear):
            torch.nn.init.normal_(module.weight, std=0.05)
    path = tmp_path_factory.mktemp("weights") / "inception-random.pth"
    torch.save(net.state_dict(), path)
    return path


@pytest.fixture(scope="session")
def image_sets():
    generator = torch.Generator().manual_seed(0)
    real = torch.randint(0, 256, (24, 3, 32, 32), dtype=torch.uint8, generator=generator)
    fake = (real.float() * 0.7 + 30).clamp(0, 255).to(torch.uint8)
    return real, fake


class UInt8Images(torch.utils.data.Dataset):
    def __init__(self, images):
        self.images = images

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        return self.images[index]


@pytest.mark.slow
def test_fid_is_kid_agree_with_torch_fidelity(inception_weights, image_sets):
    real, fake = image_sets
    reference = torch_fidelity.calculate_metrics(
        input1=UInt8Images(fake), input2=UInt8Images(real), fid=True, isc=True, kid=True, kid_subset_size=12,
        isc_splits=2, cuda=False, feature_extractor_weights_path=str(inception_weights), verbose=False, batch_size=24,
    )  # fmt: skip
    inception = InceptionFeatures(inception_weights)
    real_in_model_range, fake_in_model_range = (images.float() / 127.5 - 1 for images in (real, fake))
    assert torch.equal(to_uint8(real_in_model_range[:, :3]), real)  # the same pixels reach both implementations
    quality = ImageQuality(2048, kid_subset_size=12, is_splits=2, precision_recall=False)
    quality.update(inception(real_in_model_range)[0], None, real=True)
    quality.update(*inception(fake_in_model_range), real=False)
    ours = quality.compute()
    assert ours["fid"] > 1  # the sets differ: the comparison is not 0 == 0
    assert ours["fid"] == pytest.approx(reference["frechet_inception_distance"], abs=1e-3)
    assert ours["is"] == pytest.approx(reference["inception_score_mean"], abs=1e-4)
    # KID averages random subsets (different draws here and there): equal within its own spread
    spread = 3 * (ours["kid_std"] + reference["kernel_inception_distance_std"])
    assert abs(ours["kid"] - reference["kernel_inception_distance_mean"]) < spread


def test_fid_against_itself_is_zero_and_grows_with_the_shift(digits_classifier):
    digits = DigitsDataModule()
    classifier, _ = load_or_train(digits, cache_dir=digits_classifier)
    real = digits.split_tensors("train")[0][:600]
    features = classifier(real)[0]
    values = []
    for shift in (0.0, 0.1, 0.3, 0.6):
        quality = ImageQuality(classifier.num_features, inception_score=False, kid=False, precision_recall=False)
        quality.update(features, None, real=True)
        quality.update(classifier((real + shift).clamp(-1, 1))[0], None, real=False)
        values.append(quality.compute()["fid"])
    assert abs(values[0]) < 1e-3
    assert values == sorted(values) and values[-1] > 10 * values[1] > 0


def test_domain_classifier_is_accurate_deterministic_and_cached(digits_classifier):
    from litgan.metrics.domain_classifier import train_classifier

    digits = DigitsDataModule()
    model, accuracy = load_or_train(digits, cache_dir=digits_classifier)
    assert accuracy > 0.9
    assert len(list(digits_classifier.glob("domain-classifier-*.pt"))) == 1
    first, first_accuracy = train_classifier(digits, epochs=2)  # same seed, same weights
    second, second_accuracy = train_classifier(digits, epochs=2)
    assert first_accuracy == second_accuracy
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), second.state_dict().values()))
    again, accuracy_again = load_or_train(digits, cache_dir=digits_classifier)
    assert accuracy_again == accuracy
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values()))


def test_precision_recall_on_separated_and_identical_sets():
    generator = torch.Generator().manual_seed(0)
    points = torch.randn(400, 2, generator=generator)
    metric = PrecisionRecall(k=3)
    metric.update(points, real=True)
    metric.update(points + 100, real=False)
    assert [v.item() for v in metric.compute()] == [0.0, 0.0]
    metric = PrecisionRecall(k=3)
    metric.update(points, real=True)
    metric.update(points[points[:, 0] < 0], real=False)  # half the support: precise, about half the recall
    precision, recall = metric.compute()
    assert precision.item() == 1.0 and 0.4 < recall.item() < 0.75


def test_knn_in_blocks_equals_the_whole_distance_matrix():
    generator = torch.Generator().manual_seed(0)
    features, queries = torch.randn(530, 16, generator=generator), torch.randn(270, 16, generator=generator)
    whole = torch.cdist(features, features).kthvalue(4, dim=1).values
    torch.testing.assert_close(knn_radii(features, k=3, block=64), whole)
    inside = (torch.cdist(queries, features) <= whole).any(dim=1).float().mean()
    assert inside_manifold(queries, features, whole, block=64) == inside


def test_the_reference_statistics_are_computed_once_across_evaluations(monkeypatch):
    generator = torch.Generator().manual_seed(0)
    real, fake = torch.randn(300, 8, generator=generator), torch.randn(200, 8, generator=generator)
    radii_of = []
    monkeypatch.setattr(
        precision_recall, "knn_radii", lambda f, k, block: radii_of.append(len(f)) or knn_radii(f, k, block)
    )
    quality = ImageQuality(8, fid=True, inception_score=False, kid=True, precision_recall=True, kid_subset_size=50)
    extractor = lambda images: (images, None)  # noqa: E731 - the features are the images
    first = quality.evaluate(extractor, real, [fake[:100], fake[100:]])
    second = quality.evaluate(extractor, real, [fake[:100], fake[100:]])
    assert first == second
    assert quality.fid.real_features_num_samples == 300, "the real images are counted once"
    assert radii_of == [300, 200, 200], "the real radii once, the generated ones at each evaluation"
    fresh = ImageQuality(8, fid=True, inception_score=False, kid=True, precision_recall=True, kid_subset_size=50)
    assert fresh.evaluate(extractor, real, [fake]) == first
    other = real + 1  # another reference replaces the kept statistics
    assert quality.evaluate(extractor, other, [fake]) == fresh.evaluate(extractor, other, [fake])


def test_cached_radii_in_the_order_of_gathered_process_shares_give_the_same_values():
    """Under DDP the metric gathers the processes' shares [0::2], [1::2] in rank order; the cached
    radii of the whole reference are reordered to match (as the evaluator does)."""
    generator = torch.Generator().manual_seed(0)
    real, fake = torch.randn(301, 8, generator=generator), torch.randn(120, 8, generator=generator)
    gathered = torch.cat([real[0::2], real[1::2]])
    order = torch.cat([torch.arange(len(real))[rank::2] for rank in range(2)])
    computed, preset = PrecisionRecall(), PrecisionRecall()
    for metric in (computed, preset):
        metric.update(gathered, real=True)
        metric.update(fake, real=False)
    preset.real_radii = knn_radii(real, 3, 1000)[order]
    assert [v.item() for v in preset.compute()] == [v.item() for v in computed.compute()]


def test_missing_weights_say_what_file_to_put_where(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    with pytest.raises(
        MissingInceptionWeights,
        match=r"weights-inception-2015-12-05-6726825d\.pth.*put it at .*hub/checkpoints",
    ):
        find_inception_weights(None)
    with pytest.raises(MissingInceptionWeights, match="does not exist"):
        find_inception_weights(tmp_path / "nope.pth")
    (tmp_path / "hub" / "checkpoints").mkdir(parents=True)
    (tmp_path / "hub" / "checkpoints" / "weights-inception-2015-12-05-6726825d.pth").write_bytes(b"x")
    assert find_inception_weights(None).name == "weights-inception-2015-12-05-6726825d.pth"


def test_to_uint8_maps_the_model_range_to_pixels():
    images = torch.tensor([-1.0, 0.0, 1.0, 2.0]).view(1, 1, 2, 2)
    pixels = to_uint8(images)
    assert pixels.shape == (1, 3, 2, 2) and pixels.dtype == torch.uint8
    assert pixels[0, 0].flatten().tolist() == [0, 128, 255, 255]


def test_reference_features_are_cached_and_recomputed_when_the_data_changes(tmp_path):
    calls = []

    def extractor(images):
        calls.append(len(images))
        return images.flatten(1)[:, :4], None

    digits = DigitsDataModule()
    path = reference_path(digits, "train", "toy-extractor", 100, tmp_path)
    compute = lambda: compute_reference(digits, "train", extractor, 100, 64, torch.device("cpu"))  # noqa: E731
    first = load_or_compute_reference(path, compute)
    assert sum(calls) == 100 and first.shape == (100, 4)
    second = load_or_compute_reference(reference_path(digits, "train", "toy-extractor", 100, tmp_path), compute)
    assert sum(calls) == 100 and torch.equal(first, second)  # cache hit: nothing recomputed
    digits.train_tensors = (
        digits.train_tensors[0] * 0.5,
        digits.train_tensors[1],
    )  # the data changes
    changed = reference_path(digits, "train", "toy-extractor", 100, tmp_path)
    assert changed != path
    load_or_compute_reference(
        changed, lambda: compute_reference(digits, "train", extractor, 100, 64, torch.device("cpu"))
    )
    assert sum(calls) == 200
    assert reference_path(digits, "train", "other-extractor", 100, tmp_path) != changed


def _image_run(extra):
    from tests.helpers import tiny_overrides

    return ["model=wgan_gp", "data=digits", *tiny_overrides("dcgan", steps=4), *extra]


def test_missing_weights_stop_training_at_start_up(compose_config, monkeypatch, tmp_path):
    from litgan.train import train

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    cfg = compose_config(_image_run(["metrics=inception"]))
    with pytest.raises(MissingInceptionWeights, match="put it at"):
        train(cfg)
    assert not list(tmp_path.rglob("*.ckpt"))  # stopped before the first training step


def test_missing_weights_with_skip_warn_and_train_on(compose_config, monkeypatch, tmp_path):
    from litgan.train import train

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    cfg = compose_config(_image_run(["metrics=inception", "metrics.on_missing_weights=skip"]))
    with pytest.warns(UserWarning, match="Continuing without FID/IS/KID"):
        metrics = train(cfg)
    assert metrics["train/g_step"] == 4 and "val/fid" not in metrics


@pytest.mark.slow
def test_training_logs_every_inception_metric_and_its_best(compose_config, inception_weights, tmp_path):
    from litgan.train import train

    cfg = compose_config(_image_run([
        "metrics=inception", f"metrics.inception_weights={inception_weights}",
        "metrics.num_samples=24", "metrics.num_real_samples=24", "metrics.kid_subset_size=12", "metrics.batch_size=24",
        f"paths.cache_dir={tmp_path / 'cache'}",
    ]))  # fmt: skip
    metrics = train(cfg)
    for name in ("fid", "is", "is_std", "kid", "kid_std", "precision", "recall"):
        assert f"val/{name}" in metrics, name
    assert metrics["val/fid_best"] <= metrics["val/fid"] and metrics["val/is_best"] >= metrics["val/is"]
    cached = sorted(path.name for path in (tmp_path / "cache").glob("reference-*.pt"))
    features = [name for name in cached if not name.endswith("-radii-k3.pt")]
    assert len(features) == 1 and cached == sorted([*features, features[0].replace(".pt", "-radii-k3.pt")])
    assert "best-step" in metrics["best_model_path"]  # the best checkpoint follows val/fid


def compose_eval(overrides, output_dir):
    from tests.helpers import compose_train_config

    return compose_train_config(overrides, output_dir, config_name="eval")


def test_eval_scores_a_checkpoint_and_states_the_protocol(compose_config, digits_classifier, tmp_path):
    import json

    from litgan.evaluate import evaluate
    from litgan.train import train

    trained = train(compose_config(_image_run([])))
    cfg = compose_eval(
        [
            f"ckpt_path={trained['last_model_path']}",
            "metrics=domain",
            "num_samples=200",
            f"paths.cache_dir={digits_classifier}",
        ],
        tmp_path / "eval",
    )
    report = evaluate(cfg)
    assert report["metrics"]["val/fid_domain"] > 0
    assert report["protocol"]["num_fake"] == 200 and report["protocol"]["num_real"] == 1437
    assert report["protocol"]["real_split"] == "train" and report["protocol"]["feature_extractor"].startswith("domain")
    assert json.loads((tmp_path / "eval" / "metrics.json").read_text()) == report


def test_eval_scores_a_folder_of_images_against_a_dataset(inception_weights, digits_classifier, tmp_path):
    from torchvision.utils import save_image

    from litgan.evaluate import evaluate

    digits = DigitsDataModule()
    folder = tmp_path / "generated"
    folder.mkdir()
    for i, image in enumerate(digits.split_tensors("val")[0][:24]):
        save_image((image + 1) / 2, folder / f"{i:03d}.png")
    domain = evaluate(
        compose_eval(
            [
                f"images_dir={folder}",
                "data=digits",
                "metrics=domain",
                f"paths.cache_dir={digits_classifier}",
            ],
            tmp_path / "d",
        )
    )
    assert domain["num_samples"] == 24 and 0 < domain["metrics"]["val/fid_domain"]
    inception = evaluate(compose_eval([
        f"images_dir={folder}", "data=digits", "metrics=inception", f"metrics.inception_weights={inception_weights}",
        "metrics.num_real_samples=24", "metrics.kid_subset_size=12", "metrics.batch_size=24", f"paths.cache_dir={tmp_path / 'c'}",
    ], tmp_path / "i"))  # fmt: skip
    assert {"val/fid", "val/is", "val/kid", "val/precision", "val/recall"} <= set(inception["metrics"])
    protocol = inception["protocol"]
    assert protocol["num_real"] == 24 and protocol["num_fake"] == 24 and len(protocol["weights_sha256"]) == 64
    assert "antialias" in protocol["resize"]


def test_best_so_far_follows_the_direction_of_each_metric():
    from litgan.utils.metric_names import metric_mode

    lower = ["val/fid", "val/fid_domain", "val/kid", "val/reverse_kl", "val/cycle_error", "val/fid_best"]
    higher = ["val/is", "val/precision", "val/recall", "val/class_accuracy", "val/modes", "val/hq_fraction"]
    higher += ["val/translation_success", "val/content_preserved", "val/accuracy_shape", "val/modes_best"]
    assert {name: metric_mode(name) for name in lower + higher} == dict.fromkeys(lower, "min") | dict.fromkeys(
        higher, "max"
    )
    assert metric_mode(None) == "min"
