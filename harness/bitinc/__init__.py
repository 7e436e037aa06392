"""Bit-incremental model delivery (seed 001 §10.6): a low-precision model first, then an update to full precision.

The nested uniform min-max grids it rests on (the b-bit code of a parameter is the first b bits of its position
in its channel's [min, max], so a low model plus an exact update is the direct high model bit for bit) are
:mod:`harness.coders.nested_grid`: they define what the ``nnc-int`` coder (:mod:`harness.coders.nnc_int`) puts
in a bitstream, so they live with the coders and this package builds on them.

* :mod:`harness.bitinc.delivery`: the server (quantise, encode the low, update and direct streams with NNCodec
  through the ``nnc-int`` coder) and the two clients (decode, reconstruct to float32, apply the update), each
  step timed as in §10.6.8.
* :mod:`harness.bitinc.pipeline`: one delivery end to end (:func:`deliver`) and chains (:func:`deliver_chain`).
* :mod:`harness.bitinc.timeline`: time to first inference and to full accuracy over a downlink, crossover.
* :mod:`harness.bitinc.subjects`: the models it runs on (asr_small, ssd_small, the seed's classifiers).
"""
