import sys

from lineart_jax.web import main

sys.exit(main())
