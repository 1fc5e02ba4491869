"""CLI: pack validated pairs for fast training (see ``lineart_jax.data.packed``).

  python -m lineart_jax.data.prepare ROOT_OR_MANIFEST --out DIR

Give it the manifest ``validate`` wrote (``VALIDATED/manifest.tsv``) to train on
the clean, fixed pairs only; then set ``--config.data.root=DIR`` for training.
"""

import argparse
import sys

from lineart_jax.data.packed import pack
from lineart_jax.data.pairs import find_pairs


def main(argv=None) -> int:
  p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  p.add_argument("source", help="dataset root (color/, line/) or manifest.tsv")
  p.add_argument("--out", required=True, help="folder for pairs.u8 and index.json")
  p.add_argument("--paper-level", default=None,
                 help="whiten gray paper in the line art: 'auto' (each image's own paper "
                 "level) or a level in (0, 1] mapped to white (ink scaled with it)")
  args = p.parse_args(argv)
  level = args.paper_level
  if level not in (None, "auto"):
    try:
      level = float(level)
      assert 0 < level <= 1
    except (ValueError, AssertionError):
      p.error(f"--paper-level must be 'auto' or a number in (0, 1], not {args.paper_level!r}")
  pairs = find_pairs(args.source)
  if not pairs:
    print(f"{args.source}: no pairs found", file=sys.stderr)
    return 1
  n, errors = pack(pairs, args.out, paper_level=level)
  for e in errors:
    print(f"skipped: {e}", file=sys.stderr)
  print(f"packed {n} of {len(pairs)} pairs into {args.out}")
  return 1 if n == 0 else 0


if __name__ == "__main__":
  sys.exit(main())
