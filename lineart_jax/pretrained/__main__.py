import sys

from lineart_jax.pretrained import main

sys.exit(main())
