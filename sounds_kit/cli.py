"""The ``sounds-kit`` command line.

Each subcommand lives in its own module exposing ``add_arguments(parser)`` and
``run(args) -> int``; they are imported only when chosen, so ``--help`` is fast. A command that needs an
extra (``NEEDS``) says which one, and how to install it, before it starts. TensorFlow's start-up chatter
is silenced unless ``--verbose`` is given.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import import_module

from sounds_kit._version import __version__
from sounds_kit.errors import UserFacingError
from sounds_kit.extras import extra_for_module, install_hint, require

# name -> (module, one-line help). Order is the order of a workshop.
COMMANDS: dict[str, tuple[str, str]] = {
    "features": ("sounds_kit.commands.features", "f0, voicing and loudness of an audio file, as JSON"),
    "render-demo-data": (
        "sounds_kit.commands.render_demo_data",
        "render demo instrument/singer audio from MIDI with fluidsynth",
    ),
    "prepare": ("sounds_kit.commands.prepare", "turn recordings into a training set (Apache Beam)"),
    "train": ("sounds_kit.commands.train", "train a DDSP instrument on a prepared dataset"),
    "evaluate": ("sounds_kit.commands.evaluate", "resynthesis and tone-transfer metrics of a model"),
    "sweep": ("sounds_kit.commands.sweep", "search for the smallest model that still sounds right"),
    "export": ("sounds_kit.commands.export", "export a trained run to a TF.js model for the browser"),
    "transfer": ("sounds_kit.commands.transfer", "turn a voice recording into an instrument"),
    "sing": ("sounds_kit.commands.sing", "open JupyterLab on the sing notebook"),
}
# The pip extra each command needs beyond the core (features, transfer, evaluate of an export and
# render-demo-data need none).
NEEDS: dict[str, str] = {"prepare": "train", "train": "train", "sweep": "train", "export": "train", "sing": "jupyter"}
VERBOSE_HELP = "show TensorFlow's start-up messages (CUDA probing and the like), which are hidden otherwise"


def keep_beam_options(parser: argparse.ArgumentParser) -> None:
    """Collect the options a subcommand does not know into ``args.beam_args`` instead of failing.

    The top-level parser rejects leftovers; `prepare` and `sweep` hand them to Apache Beam so that
    standard PipelineOptions (--runner, --direct_num_workers, ...) reach the pipeline unchanged.
    """
    parse_known = parser.parse_known_args

    def parse_known_args(args=None, namespace=None):
        namespace, rest = parse_known(args, namespace)
        namespace.beam_args = list(getattr(namespace, "beam_args", None) or []) + list(rest)
        return namespace, []

    parser.parse_known_args = parse_known_args  # type: ignore[method-assign]


def available_commands() -> dict[str, tuple[str, str]]:
    """The subcommands whose modules are present in this install."""
    from importlib.util import find_spec

    return {name: spec for name, spec in COMMANDS.items() if find_spec(spec[0]) is not None}


def build_parser(chosen: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sounds-kit",
        description="Train, shrink, export and play DDSP instruments (bansuri, shehnai, sarangi).",
    )
    parser.add_argument("--version", action="version", version=f"sounds-kit {__version__}")
    parser.add_argument("--verbose", action="store_true", help=VERBOSE_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in available_commands().items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        # Also after the command; SUPPRESS keeps the subparser from resetting a --verbose given before it.
        p.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS, help=VERBOSE_HELP)
        if name == chosen:
            import_module(module).add_arguments(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    chosen = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(chosen)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if not args.verbose:
        from sounds_kit.quiet import quiet_tensorflow_on_import

        quiet_tensorflow_on_import()
    try:
        if args.command in NEEDS:
            require(NEEDS[args.command], "this command")
        module = import_module(available_commands()[args.command][0])
        return int(module.run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except UserFacingError as err:
        print(f"sounds-kit {args.command}: error: {err}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as err:
        extra = extra_for_module(err.name)
        if extra is None:
            raise
        print(f"sounds-kit {args.command}: error: this needs the [{extra}] extra ({err.name} is missing): "
              f"{install_hint(extra)}", file=sys.stderr)  # fmt: skip
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
