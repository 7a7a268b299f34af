"""The command-line arguments sphinx-gallery gives each example (``reset_argv``).

Every example runs in its ``--quick`` mode during the documentation build and
writes the figure file it would save into ``docs/_build/gallery_output/``, which
is not tracked, so a build leaves the checkout unchanged. The figures shown on
the gallery pages are the ones sphinx-gallery captures from matplotlib.
"""

import os


def quick_argv(gallery_conf, script_vars):
    stem = os.path.splitext(os.path.basename(script_vars["src_file"]))[0]
    output = os.path.join(gallery_conf["src_dir"], "_build", "gallery_output", f"{stem}.png")
    return ["--quick", "--output", output]
