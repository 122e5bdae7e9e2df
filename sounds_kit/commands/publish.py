"""``sounds-kit publish INSTRUMENT... -o SITE_DIR``: a static page that runs the sing experience on a phone."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("instruments", nargs="+", metavar="INSTRUMENT",
                        help="shipped instrument names (bansuri, shehnai, sarangi) or exported MODEL_DIRs")  # fmt: skip
    parser.add_argument("-o", "--output", required=True, help="SITE_DIR to write (replaced if it is a site)")
    parser.add_argument("--title", default="Sing with sounds-kit", help="the page's title")
    parser.add_argument("--raga", default="yaman", help="the raga whose swaras the pitch trace shows")
    parser.add_argument("--sa", default="C#3", help="Sa as a note (C#3) or in Hz")


def run(args: argparse.Namespace) -> int:
    from sounds_kit.errors import UserFacingError
    from sounds_kit.widgets.sing import RAGAS, SingWidget

    if args.raga.lower() not in RAGAS:
        raise UserFacingError(f"unknown raga {args.raga!r}; choose one of {', '.join(RAGAS)}")
    try:
        widget = SingWidget(instrument=args.instruments[0], instruments=args.instruments, raga=args.raga, sa=args.sa)
    except ValueError as err:
        raise UserFacingError(str(err)) from err
    report = widget.publish(args.output, instruments=args.instruments, title=args.title)
    for line in report.lines():
        print(line)
    print(f"serve it with any static server, e.g. `python -m http.server -d {args.output}`, and open "
          "http://localhost:8000 (phones need https for the microphone)")  # fmt: skip
    return 0
