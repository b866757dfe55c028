"""python3 -m iclcert plot FILE.json -o fig.png|svg|pdf [--vector]: the figure of a result
file (a trace, batch, batch --certify, compare, sweep, R1 map or verdict JSON file;
iclcert/plot.py, docs/figures.md). Exit 2 on bad input."""
import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    """The command line `python3 -m iclcert plot FILE -o OUT`; returns the exit status."""
    from . import __version__

    ap = argparse.ArgumentParser(prog="python3 -m iclcert", description=__doc__)
    ap.add_argument("--version", action="version", version=f"iclcert {__version__}")  # as `iclcert --version`
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("plot", help="draw a result file's figure")
    p.add_argument("file", help="a JSON file written by iclcert run/batch/compare/sweep/check --json "
                                "or check --claim R1 --map-json")
    p.add_argument("-o", "--out", required=True, help="the figure: .png, .svg or .pdf")
    p.add_argument("--vector", action="store_true", help="also write the .pdf and .svg of the same name")
    p.add_argument("--dpi", type=int, default=150, help="the resolution of a .png (default 150)")
    args = ap.parse_args(argv)
    from . import plot

    try:
        written = plot.save(args.file, args.out, vector=args.vector, dpi=args.dpi)
    except (OSError, ValueError, KeyError) as e:
        print(f"python3 -m iclcert plot: {args.file}: {e}", file=sys.stderr)
        return 2
    print(f"figure written to {', '.join(written)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
