"""Speaker diarization: who speaks when in a call, offline, with pyannote.audio 4.x.

The default ("local") pipeline is pyannote's ``SpeakerDiarization`` assembled from local files
only: pyannote/segmentation-3.0 for local speaker activity (10 s windows), CAM++ (3D-Speaker,
``pipeline.analysis.campplus``) for speaker embeddings, and agglomerative clustering of those embeddings.
Its structure and hyper-parameters are the committed ``models/diarization/config.yaml``; this
module substitutes the installed weight paths for the placeholders there, applies
``DiarizationOptions`` and hands the dict to pyannote's own loader
(``Pipeline.from_pretrained(dict)``). Nothing touches the Hugging Face hub on that path:
pyannote 4's defaults would fetch community-1's embedding and PLDA, so both are replaced, and
pyannote's telemetry (on by default in 4.x, it sends file durations to pyannote.ai) is switched
off before any pipeline exists.

A Hugging Face pipeline, e.g.
``DiarizationOptions(pipeline="pyannote/speaker-diarization-community-1")``, is downloaded only
when asked for; it needs a token accepted for that model. Whatever the pipeline, the
per-speaker embeddings in the result are CAM++ vectors, so they compare with ``embed``.

Audio is decoded by the caller (``pipeline.analysis.audio``); pyannote receives waveforms in memory,
never a path, so its torchcodec decoder (whose library fails to load here) is never used.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import io
import logging
import math
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.models import REPO_ROOT, model_file, recorded_sha256, sha256_file
from pipeline.types import ModelInfo, SpeakerTurn

if TYPE_CHECKING:
    from pyannote.audio import Pipeline
    from pyannote.core import Annotation

    from pipeline.analysis.campplus import CampPlusEmbedding

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16000  # Hz; both models were trained on 16 kHz audio
LOCAL_PIPELINE = "local"
CONFIG_PATH = REPO_ROOT / "models" / "diarization" / "config.yaml"
_PLACEHOLDER = "$callcheck/"
SEGMENTATION_NAME = "pyannote/segmentation-3.0"
CAMPPLUS_NAME = "CAM++ speech_campplus_sv_zh_en_16k-common_advanced"
# seconds of one speaker's turns used for its embedding when the pipeline gives none in CAM++
# space (hub pipelines); longer adds little to a voice print and costs CAM++ time
_CENTROID_MAX_SECONDS = 30.0


class DiarizationError(RuntimeError):
    """Diarization could not run: bad input samples, a missing model, a pipeline failure."""


@dataclass(frozen=True)
class DiarizationOptions:
    """How to diarize. Fields marked (local) apply to the bundled pipeline only: a hub
    pipeline keeps its own tuned hyper-parameters."""

    # "local": the offline pipeline of models/diarization/config.yaml. Otherwise a pyannote
    # pipeline directory or config.yaml path, or a Hugging Face name such as
    # "pyannote/speaker-diarization-community-1" (downloaded, needs a token; only then is the
    # hub contacted)
    pipeline: str = LOCAL_PIPELINE
    # fewest speakers to find; None: 1
    min_speakers: int | None = None
    # most speakers to find; None: no limit. 4 = IVR, agent, caller and a transferred-to colleague
    max_speakers: int | None = 4
    # (local) hop of the 10 s segmentation window as a fraction of it (0.5 = 5 s); time grows
    # as 1/step (docs/decisions/options.md)
    segmentation_step: float = 0.5
    # (local) clustering stops merging speaker groups whose unit CAM++ centroids lie this far
    # apart (euclidean, 0..2); higher merges more (docs/decisions/options.md)
    clustering_threshold: float = 0.8
    # (local) seconds: pauses shorter than this inside one speaker's speech are bridged
    min_duration_off: float = 0.0
    # (chunk, local speaker) pairs per call to the embedding model; CAM++ embeds masked pairs
    # one by one, so this only sets how often pyannote calls it
    embedding_batch_size: int = 3
    # 10 s windows per call to the segmentation model
    segmentation_batch_size: int = 8
    # torch CPU threads while diarizing (restored afterwards; None: torch's own setting); 1:
    # more spin-waited on a busy 2-core machine (docs/decisions/options.md)
    num_threads: int | None = 1
    # True: turns never overlap (at overlapping speech only the most likely speaker is kept,
    # pyannote's "exclusive" diarization), what a word-to-speaker assignment needs; False:
    # overlapping turns as segmented
    exclusive: bool = True


@dataclass(frozen=True)
class Diarization:
    """Who speaks when in one call."""

    turns: tuple[SpeakerTurn, ...]  # sorted by start time
    # per speaker: its CAM++ voice print (192 floats; compare with cosine similarity, e.g. with
    # ``cosine_similarity``), in the space of ``embed``
    embeddings: dict[str, tuple[float, ...]]
    model: ModelInfo  # the pipeline; sha256 of the segmentation weights when local
    options: dict = field(default_factory=dict)  # options and clustering parameters used

    @property
    def speakers(self) -> tuple[str, ...]:
        """Speaker labels in order of first appearance."""
        return tuple(dict.fromkeys(t.speaker for t in self.turns))


# --------------------------------------------------------------------------------------------
# loading


@functools.cache
def _import_pyannote() -> None:
    """Import pyannote.audio with its telemetry off and without the torchcodec warning.

    pyannote.audio 4.x sends a span per pipeline use (file duration, speaker counts) to
    otel.pyannote.ai unless PYANNOTE_METRICS_ENABLED is false; the environment variable is its
    only switch, so it is set here, once, through pyannote's own setter. The torchcodec warning
    is about decoding files, which we never ask pyannote to do.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"(?s).*torchcodec")
        import pyannote.audio  # noqa: F401
        from pyannote.audio.telemetry import set_telemetry_metrics
    set_telemetry_metrics(False)


@functools.lru_cache(maxsize=1)
def get_embedding_model() -> CampPlusEmbedding:
    """The installed CAM++ model as a pyannote embedding model, loaded once per process."""
    _import_pyannote()
    from pipeline.analysis.campplus import CampPlusEmbedding

    return CampPlusEmbedding(str(model_file("campplus"))).eval()


def _unused_plda() -> Any:
    """A PLDA that is never used, so pyannote does not fetch community-1's from the hub.

    pyannote.audio 4.0.7's SpeakerDiarization.__init__ resolves its ``plda`` argument whatever
    the clustering (only VBx clustering uses it) and accepts a PLDA instance as is.
    """
    from pyannote.audio.core.plda import PLDA

    class UnusedPLDA(PLDA):
        def __init__(self) -> None:  # nothing to load: agglomerative clustering ignores it
            pass

    return UnusedPLDA()


def load_local_config(path: Path = CONFIG_PATH) -> dict:
    """The committed pipeline config, placeholders still in (see the file's header)."""
    import yaml

    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def _resolve_local_config(options: DiarizationOptions, path: Path = CONFIG_PATH) -> dict:
    """The committed config with installed models in place of placeholders and options applied.

    Returns a dict for ``pyannote.audio.Pipeline.from_pretrained``; model values are a path
    (segmentation: pyannote loads a local checkpoint file itself) or model objects.
    """
    config = load_local_config(path)
    params = config["pipeline"]["params"]
    resolvers = {
        "segmentation": lambda: str(model_file("segmentation")),
        "campplus": get_embedding_model,
        "no-plda": _unused_plda,
    }
    for key, value in params.items():
        if isinstance(value, str) and value.startswith(_PLACEHOLDER):
            name = value[len(_PLACEHOLDER):]
            if name not in resolvers:
                raise DiarizationError(f"{path}: unknown placeholder {value!r} for {key}")
            params[key] = resolvers[name]()
    params["segmentation_step"] = options.segmentation_step
    params["embedding_batch_size"] = options.embedding_batch_size
    params["segmentation_batch_size"] = options.segmentation_batch_size
    hyper = config.setdefault("params", {})
    hyper.setdefault("segmentation", {})["min_duration_off"] = options.min_duration_off
    hyper.setdefault("clustering", {})["threshold"] = options.clustering_threshold
    return config


def build_pipeline(options: DiarizationOptions) -> Pipeline:
    """Build the pyannote pipeline that ``options.pipeline`` names (see DiarizationOptions)."""
    _import_pyannote()
    from pyannote.audio import Pipeline

    started = time.perf_counter()
    try:
        if options.pipeline == LOCAL_PIPELINE:
            pipeline = Pipeline.from_pretrained(_resolve_local_config(options))
        else:
            # a local directory or config.yaml loads offline; anything else is a hub name,
            # fetched with the token huggingface_hub finds (HF_TOKEN or a cached login)
            pipeline = Pipeline.from_pretrained(options.pipeline)
            for name in ("embedding_batch_size", "segmentation_batch_size"):
                if hasattr(pipeline, name):  # SpeakerDiarization pipelines have both
                    setattr(pipeline, name, getattr(options, name))
    except DiarizationError:
        raise
    except Exception as e:  # pyannote raises many types: missing files, hub, config errors
        raise DiarizationError(f"cannot load diarization pipeline {options.pipeline!r}: {e}") from e
    if pipeline is None:
        raise DiarizationError(f"diarization pipeline {options.pipeline!r} not found")
    logger.info("diarization pipeline %s loaded in %.1f s", options.pipeline,
                time.perf_counter() - started)
    return pipeline


def _segmentation_sha256() -> str:
    target = "weights/pyannote-segmentation-3.0/pytorch_model.bin"
    return recorded_sha256(target) or sha256_file(model_file("segmentation"))


# --------------------------------------------------------------------------------------------
# running


@contextlib.contextmanager
def _torch_threads(num_threads: int | None):
    """Use num_threads torch CPU threads inside the block, then restore the previous count."""
    if num_threads is None:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(num_threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _as_mono_16k(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """Checked (n,) float32 samples at 16 kHz."""
    x = np.asarray(samples)
    if x.ndim != 1:
        raise DiarizationError(f"expected mono samples of shape (n,), got shape {x.shape}")
    if sample_rate <= 0:
        raise DiarizationError(f"invalid sample rate {sample_rate}")
    x = x.astype(np.float32, copy=False)
    if not np.all(np.isfinite(x)):
        raise DiarizationError("samples contain NaN or infinite values")
    if sample_rate != SAMPLE_RATE and x.size:
        from scipy.signal import resample_poly

        g = math.gcd(sample_rate, SAMPLE_RATE)
        x = resample_poly(x, SAMPLE_RATE // g, sample_rate // g).astype(np.float32)
    return x


def _embed_16k(x: np.ndarray) -> np.ndarray:
    """CAM++ embedding (192,) of checked 16 kHz samples; DiarizationError if too short.
    Runs with the caller's torch thread setting."""
    _import_pyannote()  # before pipeline.analysis.campplus, which imports pyannote.audio
    import torch

    from pipeline.analysis.campplus import MIN_FRAMES, num_fbank_frames

    if num_fbank_frames(x.size) < MIN_FRAMES:
        raise DiarizationError(
            f"{x.size / SAMPLE_RATE:.2f} s of audio is too short for a speaker embedding")
    model = get_embedding_model()
    with torch.inference_mode():
        return model(torch.from_numpy(x)[None, None]).numpy()[0]


def embed(samples: np.ndarray, sample_rate: int = SAMPLE_RATE,
          num_threads: int | None = 1) -> np.ndarray:
    """CAM++ voice print (192,) float32 of one stretch of audio, presumably one speaker.

    samples: (n,) mono float; at least about 0.25 s (DiarizationError if shorter). Comparable
    (cosine) with the per-speaker embeddings of ``Diarization``, e.g. to tell whether two
    stretches share a voice. num_threads: as DiarizationOptions.num_threads. About 25 ms of
    one core per second of audio.
    """
    x = _as_mono_16k(samples, sample_rate)
    with _torch_threads(num_threads):
        return _embed_16k(x)


def cosine_similarity(a: np.ndarray | tuple[float, ...],
                      b: np.ndarray | tuple[float, ...]) -> float:
    """Cosine similarity of two voice prints, -1..1 (1: same direction)."""
    u, v = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(u @ v / (np.linalg.norm(u) * np.linalg.norm(v) + 1e-12))


def _speaker_stretch(x: np.ndarray, turns: list[SpeakerTurn]) -> np.ndarray:
    """One speaker's audio: its longest turns, concatenated, up to _CENTROID_MAX_SECONDS."""
    pieces, total = [], 0
    for t in sorted(turns, key=lambda t: t.duration, reverse=True):
        piece = x[int(t.start * SAMPLE_RATE): int(t.end * SAMPLE_RATE)]
        pieces.append(piece[: int(_CENTROID_MAX_SECONDS * SAMPLE_RATE) - total])
        total += pieces[-1].size
        if total >= _CENTROID_MAX_SECONDS * SAMPLE_RATE:
            break
    return np.concatenate(pieces) if pieces else x[:0]


class Diarizer:
    """Diarizes calls with one pyannote pipeline, loaded on first use.

    ``pipeline``: an already-built pyannote pipeline (tests pass one); default: built from
    ``options.pipeline``. Not thread-safe: use one Diarizer per thread.
    """

    def __init__(self, options: DiarizationOptions | None = None,
                 pipeline: Pipeline | None = None) -> None:
        self.options = options or DiarizationOptions()
        self._pipeline = pipeline

    @property
    def pipeline(self) -> Pipeline:
        if self._pipeline is None:
            self._pipeline = build_pipeline(self.options)
        return self._pipeline

    def model_info(self) -> ModelInfo:
        if self.options.pipeline == LOCAL_PIPELINE:
            return ModelInfo(name=f"{LOCAL_PIPELINE}: {SEGMENTATION_NAME} + {CAMPPLUS_NAME}",
                             sha256=_segmentation_sha256(), backend="pyannote.audio")
        return ModelInfo(name=self.options.pipeline, sha256=None, backend="pyannote.audio")

    def voice_prints(self, samples: np.ndarray, sample_rate: int,
                     spans: list[tuple[float, float]]) -> dict[tuple[float, float], np.ndarray]:
        """Unit CAM++ voice prints of the given stretches (seconds) of mono audio, by stretch;
        a stretch too short for a print is left out. The role stage tells agent and caller
        apart by them where the clustering gave both one voice."""
        x = _as_mono_16k(samples, sample_rate)
        prints: dict[tuple[float, float], np.ndarray] = {}
        with _torch_threads(self.options.num_threads):
            for a, b in spans:
                piece = np.ascontiguousarray(x[int(a * SAMPLE_RATE): int(b * SAMPLE_RATE)])
                try:
                    v = _embed_16k(piece)
                except DiarizationError:
                    continue
                prints[(a, b)] = v / (np.linalg.norm(v) + 1e-9)
        return prints

    def _used_options(self) -> dict:
        used = dataclasses.asdict(self.options)
        clustering = getattr(self._pipeline, "clustering", None)
        if clustering is not None and hasattr(clustering, "parameters"):
            with contextlib.suppress(Exception):  # only instantiated pipelines have values
                used["clustering"] = dict(clustering.parameters(instantiated=True))
        return used

    def __call__(self, samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> Diarization:
        """Diarize one call. samples: (n,) mono float audio at sample_rate Hz (resampled to
        16 kHz here). Stereo calls are the caller's business: diarize the mix or each channel."""
        x = _as_mono_16k(samples, sample_rate)
        if x.size == 0:
            return Diarization((), {}, self.model_info(), self._used_options())
        import torch

        kwargs = {"max_speakers": self.options.max_speakers}
        if self.options.min_speakers is not None:
            kwargs["min_speakers"] = self.options.min_speakers
        file = {"waveform": torch.from_numpy(x)[None], "sample_rate": SAMPLE_RATE, "uri": "call"}
        started = time.perf_counter()
        printed = io.StringIO()
        with _torch_threads(self.options.num_threads):
            try:
                # pyannote's clustering print()s its notes; stdout is for data: they go to the log
                with contextlib.redirect_stdout(printed), warnings.catch_warnings():
                    # when no speaker talks long enough in any chunk, pyannote averages zero
                    # embeddings into a NaN centroid; _embeddings replaces it
                    warnings.filterwarnings("ignore", "Mean of empty slice", RuntimeWarning)
                    warnings.filterwarnings("ignore", "invalid value encountered",
                                            RuntimeWarning)
                    output = self.pipeline(file, **kwargs)
            except Exception as e:
                raise DiarizationError(f"diarization failed: {e}") from e
            finally:
                if printed.getvalue().strip():
                    logger.info("pyannote: %s", printed.getvalue().strip())
            turns, centroids = self._turns_and_centroids(output, x.size / SAMPLE_RATE)
            embeddings = self._embeddings(x, turns, centroids)
        logger.info("diarized %.1f s of audio in %.1f s: %d speakers, %d turns",
                    x.size / SAMPLE_RATE, time.perf_counter() - started, len(embeddings),
                    len(turns))
        return Diarization(tuple(turns), embeddings, self.model_info(), self._used_options())

    def _turns_and_centroids(self, output: Any, duration: float
                             ) -> tuple[list[SpeakerTurn], dict[str, np.ndarray]]:
        """Turns relabelled SPEAKER_00.. by first appearance and cut at ``duration`` seconds
        (pyannote pads the last window), and the pipeline's centroids by new label."""
        from pyannote.core import Annotation

        if isinstance(output, Annotation):  # legacy pipelines return only the annotation
            annotation: Annotation = output
            centroids_array = None
        else:
            annotation = (output.exclusive_speaker_diarization if self.options.exclusive
                          else output.speaker_diarization)
            centroids_array = output.speaker_embeddings
        # output.speaker_embeddings rows follow output.speaker_diarization.labels()
        labels = (output.speaker_diarization.labels() if centroids_array is not None
                  else annotation.labels())
        raw = sorted((seg.start, min(seg.end, duration), str(label))
                     for seg, _, label in annotation.itertracks(yield_label=True)
                     if seg.start < duration)
        order = list(dict.fromkeys(label for _, _, label in raw))
        rename = {label: f"SPEAKER_{i:02d}" for i, label in enumerate(order)}
        turns = [SpeakerTurn(round(s, 3), round(e, 3), rename[label]) for s, e, label in raw]
        centroids: dict[str, np.ndarray] = {}
        if centroids_array is not None and self._centroids_are_campplus():
            for label, row in zip(labels, centroids_array, strict=False):
                if str(label) in rename and np.all(np.isfinite(row)) and np.any(row):
                    centroids[rename[str(label)]] = np.asarray(row, dtype=np.float32)
        return turns, centroids

    def _centroids_are_campplus(self) -> bool:
        """Whether the pipeline's own speaker centroids are CAM++ vectors (the local one)."""
        _import_pyannote()
        from pipeline.analysis.campplus import CampPlusEmbedding

        # pyannote keeps the embedding wrapper in SpeakerDiarization._embedding (not public)
        wrapper = getattr(self.pipeline, "_embedding", None)
        return isinstance(getattr(wrapper, "model_", None), CampPlusEmbedding)

    def _embeddings(self, x: np.ndarray, turns: list[SpeakerTurn],
                    centroids: dict[str, np.ndarray]) -> dict[str, tuple[float, ...]]:
        """One CAM++ vector per speaker: the pipeline's centroid, else one from its turns."""
        embeddings: dict[str, tuple[float, ...]] = {}
        for speaker in dict.fromkeys(t.speaker for t in turns):
            vector = centroids.get(speaker)
            if vector is None:
                stretch = _speaker_stretch(x, [t for t in turns if t.speaker == speaker])
                try:
                    vector = _embed_16k(stretch)
                except DiarizationError:
                    logger.info("%s speaks too briefly for a voice print", speaker)
                    continue
            embeddings[speaker] = tuple(float(v) for v in vector)
        return embeddings


@functools.lru_cache(maxsize=4)
def get_diarizer(options: DiarizationOptions | None = None) -> Diarizer:
    """One Diarizer per distinct options in this process (pipelines are loaded lazily)."""
    return Diarizer(options)
