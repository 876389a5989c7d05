"""Slow, obviously correct reference implementations of the kernels, one module per kernel module.

Each function reads its rule literally (loops over rows, no sorting tricks) so a reader can check
it against the indicator's definition; the kernel tests compare the compiled kernels, their Python
bodies and the SQL paths with these on seeded random inputs and hand-worked corner cases.
"""
