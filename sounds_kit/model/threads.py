"""How training uses the CPU's cores: one thread per TensorFlow op, one op per core at a time.

A training step here is hundreds of small ops (BENCHMARKS.md, "Stage 2"). TF's default splits every op
across all cores and syncs them, which costs more than it saves on ops this small; with one thread per
op and as many independent ops running at once as there are cores, stage 2 ran 1.36-1.41x faster on the
project's 2-core machine (same-run comparisons; not measured on more cores). Stage 1's graph is one
long chain, so the trainer also splits each batch into one shard per core (``shards_for``): the same
mean loss, with work for every core. Stage 2 has work for two cores in each step already, so its
batches get at most one shard per two cores (``stage2_shards``).

TF fixes its thread pools when it starts, once per process, and they apply to everything the process
does after, so the entry points choose them, not the library: ``sounds-kit train`` and the training
notebooks call :func:`use_training_threads` before TF starts; a script that calls ``train()`` may do
the same. A process that chose its pools already (TF started, ``TF_NUM_*_THREADS`` set, or a sweep
worker's caps) keeps them.
"""

from __future__ import annotations

import os


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity, which containers and job schedulers set)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return max(1, os.cpu_count() or 1)


def use_training_threads() -> bool:
    """Give TF one thread per op and one op per core, if this process has not chosen its pools yet;
    returns whether its pools are (now) so."""
    import tensorflow as tf

    if one_op_per_core():
        return True  # chosen by an earlier call
    pools = tf.config.threading
    chosen = pools.get_intra_op_parallelism_threads() or pools.get_inter_op_parallelism_threads()
    if chosen or "TF_NUM_INTRAOP_THREADS" in os.environ or "TF_NUM_INTEROP_THREADS" in os.environ:
        return False  # chosen by someone else (a sweep worker's caps, the user)
    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(available_cores())
    except RuntimeError:
        return False  # TF already started: its pools cannot change any more
    return True


def parallel_ops() -> int:
    """How many ops TF runs at once in this process: its inter-op pool, as set by ``tf.config`` or
    ``TF_NUM_INTEROP_THREADS`` (TF's default: the cores)."""
    import tensorflow as tf

    from_env = os.environ.get("TF_NUM_INTEROP_THREADS", "")
    env = int(from_env) if from_env.isdigit() else 0
    return tf.config.threading.get_inter_op_parallelism_threads() or env or available_cores()


def one_op_per_core() -> bool:
    """Whether this process's TF pools are the ones :func:`use_training_threads` sets (reads only)."""
    import tensorflow as tf

    intra = tf.config.threading.get_intra_op_parallelism_threads()
    return (intra, tf.config.threading.get_inter_op_parallelism_threads()) == (1, available_cores())


MIN_SHARD = 2  # examples per shard at least: more, smaller shards only add ops (measured on 2 cores only)
# Stage 2's graph has independent work of its own (hop groups, loss scales, the harmonic and noise
# paths): on 2 cores one shard a step ran 1.05x faster than two, which add ops and pad each shard's
# hop groups (BENCHMARKS.md). At most one shard per this many cores; not measured on more than 2.
CORES_PER_STAGE2_SHARD = 2


def shards_for(batch_size: int, cores: int | None = None) -> int:
    """Pieces to split a batch into, one per op TF runs at once (``cores``, default
    :func:`parallel_ops`): the largest count up to it that divides the batch into equal pieces (so the
    mean of their losses is the batch's loss) of at least MIN_SHARD examples. A sweep worker capped at
    one inter-op thread gets one piece: there, more pieces only add ops."""
    cores = parallel_ops() if cores is None else max(1, int(cores))
    most = max(1, min(cores, batch_size // MIN_SHARD))
    return max(s for s in range(1, most + 1) if batch_size % s == 0)


def stage2_shards(batch_size: int, cores: int | None = None) -> int:
    """:func:`shards_for` for stage 2's batches: at most one shard per CORES_PER_STAGE2_SHARD of ``cores``."""
    cores = parallel_ops() if cores is None else max(1, int(cores))
    return shards_for(batch_size, max(1, cores // CORES_PER_STAGE2_SHARD))
