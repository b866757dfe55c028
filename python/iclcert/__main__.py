"""python3 -m iclcert plot FILE.json -o fig.png|svg|pdf: the figure of a result file
(a trace, batch, compare or sweep JSON file; iclcert/plot.py). Exit 2 on bad input."""
import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    """The command line `python3 -m iclcert plot FILE -o OUT`; returns the exit status."""
    from . import __version__

    ap = argparse.ArgumentParser(prog="python3 -m iclcert", description=__doc__)
    ap.add_argument("--version", action="version", version=f"iclcert {__version__}")  # as `iclcert --version`
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("plot", help="draw a result file's figure")
    p.add_argument("file", help="a JSON file written by iclcert run/batch/compare/sweep --json")
    p.add_argument("-o", "--out", required=True, help="the figure: .png, .svg or .pdf")
    args = ap.parse_args(argv)
    from . import plot

    try:
        plot.save(args.file, args.out)
    except (OSError, ValueError, KeyError) as e:
        print(f"python3 -m iclcert plot: {args.file}: {e}", file=sys.stderr)
        return 2
    print(f"figure written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
