"""Coder registry and the ``name[:key=value,...]`` spec strings."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from harness.coders import CODERS, Coder, make_coder, parse_spec

pytestmark = pytest.mark.coders


def test_the_four_coders_of_the_issue_are_registered():
    assert {"raw", "fp16", "nncodec", "qlayer"} <= set(CODERS.names())
    for name in CODERS.names():
        assert issubclass(CODERS.get(name), Coder)


@pytest.mark.parametrize("spec, canonical", [
    ("raw", "raw"),
    ("fp16", "fp16"),
    (" qlayer ", "qlayer:bits=8,lossless=zlib,level=9"),
    ("qlayer:level=6,lossless=png,bits=12", "qlayer:bits=12,lossless=png,level=6"),
    ("qlayer: bits = 10 ", "qlayer:bits=10,lossless=zlib,level=9"),
    ("nncodec:qp=-26", "nncodec:qp=-26,dq=1,param_opt=1,row_skip=1,bitdepth=0"),
    ("nncodec:dq=false,qp=0,row_skip=no", "nncodec:qp=0,dq=0,param_opt=1,row_skip=0,bitdepth=0"),
])
def test_spec_is_canonicalised_with_every_parameter_in_declared_order(spec, canonical):
    coder = make_coder(spec)
    assert coder.spec == canonical
    assert make_coder(coder.spec).spec == canonical  # canonical form is a fixed point


@pytest.mark.parametrize("spec, message", [
    ("", r"empty coder spec; expected name\[:key=value,...\], one of: {known}$"),
    ("zstd", r"unknown coder 'zstd'; known: {known}$"),
    ("raw:level=3", r"coder 'raw': unknown parameter\(s\) level; allowed: none"),
    ("qlayer:bitz=8", r"unknown parameter\(s\) bitz; allowed: bits=<integer 1..16>, lossless=<zlib\|png>, level=<integer 1..9>"),
    ("qlayer:bits=17", r"bad value '17' for bits; allowed: integer 1..16"),
    ("qlayer:bits=0", r"bad value '0' for bits"),
    ("qlayer:bits=8.5", r"bad value '8.5' for bits"),
    ("qlayer:lossless=lzma", r"bad value 'lzma' for lossless; allowed: zlib\|png"),
    ("qlayer:level=0", r"bad value '0' for level; allowed: integer 1..9"),
    ("qlayer:bits=8,bits=10", r"parameter 'bits' given twice"),
    ("qlayer:bits", r"'bits' is not key=value"),
    ("qlayer:bits=", r"'bits=' is not key=value"),
    ("qlayer:", r"nothing after ':'"),
    ("nncodec:qp=-129", r"bad value '-129' for qp; allowed: integer -128..127"),
    ("nncodec:dq=maybe", r"bad value 'maybe' for dq; allowed: 0\|1"),
])
def test_bad_specs_name_the_problem_and_the_allowed_values(spec, message):
    # other modules may register more coders: the list must be the registry's, sorted
    known = ", ".join(sorted(CODERS.names()))
    with pytest.raises(ValueError, match=message.replace("{known}", known)):
        make_coder(spec)


def test_programmatic_parameters_are_validated_like_strings():
    qlayer = CODERS.get("qlayer")
    assert qlayer(bits=10).spec == "qlayer:bits=10,lossless=zlib,level=9"
    with pytest.raises(ValueError, match="bad value '99' for bits"):
        qlayer(bits=99)
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) qp"):
        qlayer(qp=3)


@settings(max_examples=60, deadline=None)
@given(qp=st.integers(-128, 127), dq=st.booleans(), param_opt=st.booleans(), row_skip=st.booleans(),
       bitdepth=st.integers(0, 31), order=st.permutations(["qp", "dq", "param_opt", "row_skip", "bitdepth"]))
def test_any_order_of_valid_nncodec_parameters_gives_one_canonical_spec(qp, dq, param_opt, row_skip, bitdepth, order):
    values = {"qp": qp, "dq": int(dq), "param_opt": int(param_opt), "row_skip": int(row_skip), "bitdepth": bitdepth}
    spec = "nncodec:" + ",".join(f"{key}={values[key]}" for key in order)
    expected = ("nncodec:" + f"qp={qp},dq={int(dq)},param_opt={int(param_opt)},row_skip={int(row_skip)},"
                f"bitdepth={bitdepth}")
    assert make_coder(spec).spec == expected


def test_parse_spec_keeps_raw_strings():
    assert parse_spec("qlayer:bits=8,lossless=png") == ("qlayer", {"bits": "8", "lossless": "png"})
