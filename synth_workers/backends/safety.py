"""Is an uploaded model file safe to open? Decided from its bytes and zip directory only.

Pickle-based checkpoints (torch.save, Lightning .ckpt, TorchScript, numpy object arrays) run
code while they load, so nothing here ever unpickles: we read magic bytes, zip member names and
.npy headers. ONNX runs no Python, but a model may point at "external data" files anywhere on
disk, so such models are refused too (DESIGN.md §5, reference notes §2).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import BackendError

if TYPE_CHECKING:  # onnx is imported only when an ONNX file is checked
    import onnx

PICKLE_PROTOCOLS = range(2, 6)  # protocol 2+ pickles start with PROTO (0x80) and the version
# Protocol 0/1 pickles have no magic; they start with MARK, GLOBAL, INST, an empty list/dict/tuple
# or NONE, and always end with STOP ("."). No JSON, ONNX or audio file looks like that.
OLD_PICKLE_FIRST = b"(cil]})N"
NPY_MAGIC = b"\x93NUMPY"


def is_pickle_like(path: str | Path) -> bool:
    """True for files whose loading would unpickle: raw pickles, torch/TorchScript zips, and
    .npy/.npz files holding object arrays. Never loads the file."""
    path = Path(path)
    with path.open("rb") as f:
        head = f.read(8)
        if head[:1] and head[0] in OLD_PICKLE_FIRST:
            f.seek(-1, 2)
            if f.read(1) == b".":
                return True
    if len(head) >= 2 and head[0] == 0x80 and head[1] in PICKLE_PROTOCOLS:
        return True
    if head.startswith(NPY_MAGIC):
        with path.open("rb") as f:
            return _npy_holds_objects(f)
    if head.startswith(b"PK") and zipfile.is_zipfile(path):
        return _zip_holds_pickles(path)
    return False


def _zip_holds_pickles(path: Path) -> bool:
    # torch.save writes <name>/data.pkl, TorchScript adds constants.pkl: any *.pkl member counts.
    try:
        with zipfile.ZipFile(path) as archive:
            for member in archive.infolist():
                name = member.filename.lower()
                if name.endswith(".pkl") or (
                    name.endswith(".npy") and _zipped_npy(archive, member)
                ):
                    return True
    except zipfile.BadZipFile:
        return False  # not a readable zip, so no loader can unpickle from it either
    return False


def _zipped_npy(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> bool:
    try:
        with archive.open(member) as f:  # decompresses the header only
            return _npy_holds_objects(f)
    except (RuntimeError, NotImplementedError, zipfile.BadZipFile, OSError):
        return True  # encrypted or unreadable member: cannot show it is safe


def _npy_holds_objects(f) -> bool:
    """An .npy header is a Python literal parsed without eval; an 'O' dtype means pickles."""
    from numpy.lib import format as npy_format

    try:
        version = npy_format.read_magic(f)
        read_header = {
            (1, 0): npy_format.read_array_header_1_0,
            (2, 0): npy_format.read_array_header_2_0,
        }.get(version)
        if read_header is None:
            return True  # a format numpy may add later: be careful rather than sorry
        _, _, dtype = read_header(f)
    except ValueError:
        return True  # unreadable header: refuse rather than guess
    return dtype.hasobject


def check_file(path: Path, role: str, trusted: bool) -> None:
    """A file any backend may be given: present, a regular file, and not a pickle unless the
    system is trusted by an administrator."""
    if not path.is_file():
        raise BackendError(f"{role} file '{path}' does not exist or is not a regular file")
    try:
        pickled = is_pickle_like(path)
    except OSError as exc:
        raise BackendError(f"{role} file '{path}' cannot be read: {exc.strerror or exc}") from exc
    if pickled and not trusted:
        raise BackendError(
            f"{role} file '{path.name}' is a pickle-based checkpoint; pickles run code when "
            "loaded, so only a system an administrator marked trusted may use one "
            "(upload ONNX or safetensors instead)"
        )


def check_onnx_file(path: str | Path) -> onnx.ModelProto:
    """Parse an ONNX model without its external data; refuse non-ONNX files and any tensor that
    points at external data. Returns the parsed model so callers need not parse it twice."""
    import onnx
    from google.protobuf.message import DecodeError

    path = Path(path)
    if not path.is_file():
        raise BackendError(f"ONNX model '{path}' does not exist or is not a regular file")
    if is_pickle_like(path):
        raise BackendError(f"'{path.name}' is a pickle-based checkpoint, not an ONNX model")
    try:
        model = onnx.load(str(path), load_external_data=False)
    except (DecodeError, ValueError, OSError, RuntimeError) as exc:
        raise BackendError(f"'{path.name}' is not a readable ONNX model ({exc})") from exc
    # Protobuf happily parses an empty or unrelated file into an empty message.
    if not model.opset_import or not model.graph.node:
        raise BackendError(f"'{path.name}' is not an ONNX model (no graph or opset found)")
    for where, tensor in _all_tensors(model):
        if tensor.data_location == onnx.TensorProto.EXTERNAL or len(tensor.external_data):
            location = {e.key: e.value for e in tensor.external_data}.get("location", "?")
            raise BackendError(
                f"ONNX model '{path.name}' keeps tensor '{tensor.name or where}' in an external "
                f"file ('{location}'); upload a self-contained model (external data is refused)"
            )
    return model


def _all_tensors(model: onnx.ModelProto) -> Iterator[tuple[str, onnx.TensorProto]]:
    """Every TensorProto in the model: initializers, constants, subgraphs and functions."""
    yield from _graph_tensors(model.graph)
    for function in model.functions:
        for node in function.node:
            yield from _node_tensors(node)


def _graph_tensors(graph: onnx.GraphProto) -> Iterator[tuple[str, onnx.TensorProto]]:
    for tensor in graph.initializer:
        yield "initializer", tensor
    for sparse in graph.sparse_initializer:
        yield "sparse initializer", sparse.values
        yield "sparse initializer", sparse.indices
    for node in graph.node:
        yield from _node_tensors(node)


def _node_tensors(node) -> Iterator[tuple[str, onnx.TensorProto]]:
    for attribute in node.attribute:
        where = f"{node.op_type} {node.name}".strip()
        if attribute.HasField("t"):
            yield where, attribute.t
        for tensor in attribute.tensors:
            yield where, tensor
        if attribute.HasField("sparse_tensor"):
            yield where, attribute.sparse_tensor.values
        if attribute.HasField("g"):
            yield from _graph_tensors(attribute.g)
        for graph in attribute.graphs:
            yield from _graph_tensors(graph)
