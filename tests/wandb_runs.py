"""What W&B really wrote: the records of offline runs (`offline-run-*/run-<id>.wandb`), decoded
with wandb's own protobuf messages. The file is a LevelDB-style log (wandb-core's store): a
7-byte header, then 32 KiB blocks of records, each a checksum, a length, a type (full, first,
middle, last) and data; records split across blocks are joined again."""

import json
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path

from wandb.proto import wandb_internal_pb2

BLOCK, RECORD_HEADER = 32768, 7
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


def records(path: Path):
    data = path.read_bytes()
    if not data:  # the header is not written yet
        return
    assert data[:4] == b":W&B", f"{path} is not a W&B run file"
    position, pending = 7, b""
    while position + RECORD_HEADER <= len(data):
        left_in_block = BLOCK - position % BLOCK
        if left_in_block < RECORD_HEADER:  # block trailer
            position += left_in_block
            continue
        _, length, kind = struct.unpack("<IHB", data[position : position + RECORD_HEADER])
        if kind == 0:  # zero padding to the end of the block
            position += left_in_block
            continue
        chunk = data[position + RECORD_HEADER : position + RECORD_HEADER + length]
        position += RECORD_HEADER + length
        pending = chunk if kind in (FULL, FIRST) else pending + chunk
        if kind in (FULL, LAST):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            yield record


def _items(items) -> dict:
    return {item.key or "/".join(item.nested_key): json.loads(item.value_json) for item in items}


@dataclass
class OfflineRun:
    """One offline run folder: its id, name, group, tags, config, history rows, summary, exit
    code and logged artifacts."""

    path: Path
    id: str = ""
    name: str = ""
    group: str = ""
    tags: list[str] = field(default_factory=list)
    config: dict = field(default_factory=dict)
    history: list[dict] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    exit_code: int | None = None
    artifacts: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, folder: Path) -> "OfflineRun":
        (run_file,) = folder.glob("run-*.wandb")
        run = cls(folder)
        for record in records(run_file):
            kind = record.WhichOneof("record_type")
            if kind == "run":
                run.id, run.name, run.group = record.run.run_id, record.run.display_name, record.run.run_group
                run.tags = list(record.run.tags)
                run.config.update(_items(record.run.config.update))
            elif kind == "config":
                run.config.update(_items(record.config.update))
            elif kind == "history":
                run.history.append(_items(record.history.item))
            elif kind == "summary":
                run.summary.update(_items(record.summary.update))
            elif kind == "exit":
                run.exit_code = record.exit.exit_code
            elif kind == "artifact":
                run.artifacts.append(record.artifact.name)
        return run

    def steps(self, key: str) -> list[int]:
        """`_step` of every history row that holds `key`."""
        return [row["_step"] for row in self.history if key in row]


def finished_run(folder: Path, timeout_s: float = 30.0) -> OfflineRun:
    """The run in `folder` once its exit record is on disk. `run.finish()` returns when the run
    has ended, but wandb-core writes its buffered records to the file when it closes the stream,
    which can be a moment later: reading at once has given an empty file."""
    deadline = time.monotonic() + timeout_s
    while (run := OfflineRun.read(folder)).exit_code is None and time.monotonic() < deadline:
        time.sleep(0.1)
    return run


def offline_runs(output_dir: Path) -> list[OfflineRun]:
    """Every W&B run written under a run folder, oldest first."""
    return [finished_run(folder) for folder in sorted(Path(output_dir).glob("wandb/offline-run-*"))]
