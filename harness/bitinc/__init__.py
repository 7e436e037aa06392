"""Bit-incremental model delivery (seed 001 §10.6): a low-precision model first, then an update to full precision.

* :mod:`harness.bitinc.grid`: nested uniform min-max grids; the b-bit code of a parameter is the first b bits
  of its position in its channel's [min, max], so a low model plus an exact update is the direct high model
  bit for bit.
* :mod:`harness.bitinc.delivery`: the server (quantise, encode the low, update and direct streams with NNCodec
  through the ``nnc-int`` coder of :mod:`harness.coders.nnc_int`) and the two clients (decode, reconstruct to
  float32, apply the update), each step timed as in §10.6.8.
* :mod:`harness.bitinc.pipeline`: one delivery end to end (:func:`deliver`) and chains (:func:`deliver_chain`).
* :mod:`harness.bitinc.timeline`: time to first inference and to full accuracy over a downlink, crossover.
* :mod:`harness.bitinc.subjects`: the models it runs on (asr_small, ssd_small, the seed's classifiers).

Light on purpose: the coder module imports :mod:`harness.bitinc.grid`, so this package imports nothing here.
"""
