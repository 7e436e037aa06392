"""Server, clients, chains and the downlink arithmetic (harness.bitinc.delivery / pipeline / timeline)."""
from __future__ import annotations

import numpy as np
import pytest

from harness.bitinc.delivery import BASE_KEY, Client, Server, UpdateMode, WrongBaseError, split_state
from harness.bitinc.pipeline import deliver, deliver_chain
from harness.coders.model_state import states_identical
from harness.bitinc.timeline import Crossover, Link, client_times, crossover, transmission_seconds
from harness.coders import BitstreamError, decode_any

pytestmark = pytest.mark.bitinc


@pytest.fixture(scope="module")
def state() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(11)
    return {"conv.weight": rng.normal(0, 0.1, (16, 8, 3, 3)).astype(np.float32),
            "conv.bias": rng.normal(0, 0.5, 16).astype(np.float32),
            "bn.running_var": rng.uniform(0.5, 2.0, 16).astype(np.float16),
            "bn.num_batches_tracked": np.array(1234, np.int64),
            "fc.weight": rng.normal(0, 0.02, (10, 64)).astype(np.float32)}


@pytest.fixture(scope="module")
def exact(state):
    return deliver(state, 4, 12, UpdateMode.parse("exact"))


def test_exact_delivery_gives_the_direct_model_and_carries_integers(state, exact):
    assert exact.exact_match()
    for name in ("low", "low_plus_update", "high"):
        got = exact.states[name]
        assert list(got) == list(state)  # the model's own order
        assert got["bn.num_batches_tracked"].dtype == np.int64 and int(got["bn.num_batches_tracked"]) == 1234
        assert all(got[n].dtype == np.float32 for n in state if n != "bn.num_batches_tracked")
    sizes = exact.sizes()
    assert sizes["low"] < sizes["high"]
    # the exact update carries the 8 extra bits of each code, which are close to uniform noise: no entropy
    # coder gets far below 8 bits per parameter; NNCodec's per-tensor headers cost extra on tensors this small
    floats = sum(v.size for n, v in state.items() if v.dtype.kind == "f")
    assert 0.9 < sizes["update"] / (floats * 8 / 8) < 1.6
    timing = exact.timing["update"]
    assert timing.startup == pytest.approx(timing.encode + timing.decode + timing.reconstruct)


def test_quantisation_steps_per_tensor(exact, state):
    steps = exact.steps["conv.weight"]
    assert steps["channels"] == 16
    widest = float((state["conv.weight"].reshape(16, -1).max(1).astype(np.float64)
                    - state["conv.weight"].reshape(16, -1).min(1)).max())
    assert steps["low_step"] == pytest.approx(widest / 2 ** 4) and steps["high_step"] == pytest.approx(widest / 2 ** 12)


def test_lossy_update_is_the_coded_float_difference(state):
    result = deliver(state, 4, 12, UpdateMode.parse("lossy:qp=-40"))
    assert not result.exact_match()
    gap = {n: result.states["high"][n] - result.states["low"][n] for n in ("conv.weight", "fc.weight")}
    got = {n: result.states["low_plus_update"][n] - result.states["low"][n] for n in gap}
    step = 2.0 ** (-40 / 4)  # NNCodec's quantisation step at qp=-40 (qp_density 2)
    for name in gap:
        # rate-distortion optimised (trellis) quantisation may round past the nearest level, never by two steps
        assert np.abs(got[name] - gap[name]).max() <= 2 * step
        rms = lambda x: float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))  # noqa: E731
        assert rms(got[name] - gap[name]) < 0.5 * rms(gap[name])  # the update removes most of the gap
    decoded = decode_any(result.data["update"])
    assert decoded[BASE_KEY].tobytes() == __import__("hashlib").sha256(result.data["low"]).digest()


def test_an_update_refuses_another_base(state, exact):
    other = deliver({**state, "fc.weight": state["fc.weight"] * 2}, 4, 12, UpdateMode.parse("exact"))
    client = Client()
    client.receive_model(other.data["low"])
    with pytest.raises(WrongBaseError, match="SHA-256"):
        client.receive_update(exact.data["update"])
    with pytest.raises(ValueError, match="base model"):
        Client().receive_update(exact.data["update"])
    with pytest.raises(ValueError, match="not a model"):
        Client().receive_model(exact.data["update"])
    no_base = Client()
    no_base.receive_model(exact.data["low"])
    with pytest.raises(BitstreamError, match="not an update"):
        no_base.receive_update(exact.data["high"])


def test_chain_4_8_16_reaches_the_direct_model_and_each_update_names_the_previous(state):
    chain = deliver_chain(state, [4, 8, 16])
    assert states_identical(chain.states[-1], chain.direct)
    assert not states_identical(chain.states[1], chain.direct)
    client = Client()
    client.receive_model(chain.data[0])
    with pytest.raises(WrongBaseError):
        client.receive_update(chain.data[2])  # the 8 -> 16 update applies after the 4 -> 8 one only


def test_an_exact_update_after_a_lossy_one_is_refused(state):
    server = Server(state, 12)
    low = server.model_stream(4)[0]
    lossy = server.update_stream(4, 8, UpdateMode.parse("lossy:qp=-40"), base=low)[0]
    exact = server.update_stream(8, 12, UpdateMode.parse("exact"), base=lossy)[0]
    client = Client()
    client.receive_model(low)
    client.receive_update(lossy)
    with pytest.raises(ValueError, match="lossy"):
        client.receive_update(exact)


def test_model_streams_do_not_depend_on_the_top_precision(state):
    # claim 1 of harness.coders.nested_grid: the 8-bit stream of a server quantised at 16 is the standalone one
    assert Server(state, 16).model_stream(8)[0] == Server(state, 8).model_stream(8)[0]


@pytest.mark.parametrize("bad, match", [
    ({"n": np.array([1, 2], np.int64)}, "no floating tensor"),
    ({BASE_KEY: np.zeros(3, np.float32)}, "reserves"),
    ({"c": np.zeros(2, np.complex64)}, "dtype"),
])
def test_unusable_state_dicts(bad, match):
    with pytest.raises(ValueError, match=match):
        split_state(bad)


@pytest.mark.parametrize("text", ["lossy", "lossy:qp=x", "exact:1", "lossy:qp=-200", ""])
def test_bad_update_modes(text):
    with pytest.raises(ValueError):
        UpdateMode.parse(text)


def test_transmission_and_client_times():
    assert transmission_seconds(1_250_000, 10) == pytest.approx(1.0)  # 10 Mbit in 1 s
    times = client_times(Link(1_250_000, 0.5), Link(250_000, 0.25), Link(2_500_000, 1.0), 10)
    assert times == pytest.approx({"incremental_first_s": 1.5, "incremental_full_s": 1.5 + 0.45, "direct_s": 3.0})
    with pytest.raises(ValueError):
        transmission_seconds(1, 0)


@pytest.mark.parametrize("a, b, expected", [
    (Link(100, 1.0), Link(200, 1.0), Crossover("always")),
    (Link(100, 0.5), Link(200, 1.0), Crossover("always")),
    (Link(300, 1.0), Link(200, 1.0), Crossover("never")),
    (Link(1_000_000, 2.0), Link(2_000_000, 1.0), Crossover("below", 8.0)),  # 8 Mbit saved vs 1 s lost
    (Link(2_000_000, 1.0), Link(1_000_000, 2.0), Crossover("above", 8.0)),
    (Link(200, 1.0), Link(200, 1.0), Crossover("never")),
])
def test_crossover_known_answers(a, b, expected):
    got = crossover(a, b)
    assert got.wins == expected.wins
    assert (got.mbps is None) == (expected.mbps is None)
    if expected.mbps is not None:
        assert got.mbps == pytest.approx(expected.mbps)
        # at the crossover both take the same time; just below/above, the stated side wins
        assert a.seconds(got.mbps) == pytest.approx(b.seconds(got.mbps))
        below = a.seconds(got.mbps * 0.9) < b.seconds(got.mbps * 0.9)
        assert below == (got.wins == "below")
