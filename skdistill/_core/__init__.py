"""The mathematics of distillation, arrays in and arrays out.

Nothing here imports from the rest of the package: moments and their merging, the
standardiser, the closed-form match, the L-BFGS driver, random models, certificates,
the reservoir, apportionment, herding and the thread pool of the data pass.
"""
