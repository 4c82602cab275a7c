"""Preloaded by the chart pool's fork server (eventlab.charts.render.WORKER_MODULE): import the
drawing code and warm matplotlib up once, so that every worker forked from the server starts
warm. Not meant to be imported anywhere else (it freezes the garbage collector's view).
"""

import contextlib
import gc
import warnings

from eventlab.charts import draw

# The server has imported the parent's main module (e.g. commands.run) by name; each forked
# worker then re-runs it as __mp_main__ and runpy warns that the module is already imported.
# That is the intended, harmless path (see render._preload_modules): keep the console clean.
warnings.filterwarnings(
    "ignore", message=r".* found in sys\.modules after import of package", category=RuntimeWarning
)

# warming is only an optimization: a failure here must not take the fork server down
with contextlib.suppress(Exception):
    draw.warm_up()

# Everything imported so far lives as long as the worker: keep it out of the cyclic collector
# (full collections otherwise rescan it, ~0.1 s each, a few times per worker) and out of
# copy-on-write page faults in the forked workers.
gc.freeze()
