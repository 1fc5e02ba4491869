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
  args = p.parse_args(argv)
  pairs = find_pairs(args.source)
  if not pairs:
    print(f"{args.source}: no pairs found", file=sys.stderr)
    return 1
  n, errors = pack(pairs, args.out)
  for e in errors:
    print(f"skipped: {e}", file=sys.stderr)
  print(f"packed {n} of {len(pairs)} pairs into {args.out}")
  return 1 if n == 0 else 0


if __name__ == "__main__":
  sys.exit(main())
