"""The reference synth against analytic signals, the TF synth against the reference, analysis targets."""

from __future__ import annotations

import numpy as np
import pytest

from sounds_kit.conventions import HOP_SIZE, NOISE_SEED, NOISE_TABLE_SIZE, SAMPLE_RATE
from sounds_kit.dsp import analysis, synth
from sounds_kit.dsp import controls as C

SR = SAMPLE_RATE


def tone(f0, amp, dist, noise=None, **kw):
    ctl = {"f0_hz": f0, "amplitude": amp, "harmonic_distribution": dist}
    if noise is not None:
        ctl["noise_magnitudes"] = noise
    return synth.synthesize(ctl, **kw)


def spectrum_peak_hz(x):
    mag = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    return np.argmax(mag) * SR / x.size


# ----------------------------------------------------------------------------------------- controls


def test_exp_sigmoid_and_scalings():
    assert C.exp_sigmoid(0.0) == pytest.approx(2 * 0.5 ** np.log(10) + 1e-7)
    assert C.exp_sigmoid(1000.0) == pytest.approx(2.0 + 1e-7)
    assert C.exp_sigmoid(-1000.0) == pytest.approx(1e-7)
    assert C.scale_f0(440.0) == pytest.approx(69 / 127)
    assert C.scale_loudness([-80.0, 0.0]) == pytest.approx([0.0, 1.0])


def test_fill_unvoiced_takes_nearest_voiced_value():
    f0 = np.array([0, 0, 200, 0, 0, 0, 300, 0], float)
    conf = np.array([0, 0, 1, 0, 0, 0, 1, 0], float)
    assert C.fill_unvoiced(f0, conf, 0.5).tolist() == [200, 200, 200, 200, 200, 300, 300, 300]
    assert C.fill_unvoiced(f0, np.zeros(8), 0.5, default_hz=123.0).tolist() == [123.0] * 8
    batch = C.fill_unvoiced(np.stack([f0, f0]), np.stack([conf, np.zeros(8)]))
    assert batch[0].tolist() == [200, 200, 200, 200, 200, 300, 300, 300] and np.all(batch[1] == C.UNVOICED_F0_HZ)


def test_harmonic_amplitudes_remove_nyquist_and_renormalise():
    f0 = np.array([1000.0, 4000.0])
    amps = C.harmonic_amplitudes(f0, np.array([[1.0], [0.5]]), np.ones((2, 4)))
    assert amps[0].tolist() == pytest.approx([0.25] * 4)  # 4 kHz < 8 kHz: all kept
    assert amps[1].tolist() == pytest.approx([0.5, 0, 0, 0])  # 2 * 4 kHz == Nyquist is removed


def test_upsample_is_linear_between_frames_and_holds_after_the_last():
    up = synth.upsample(np.array([0.0, 64.0, 0.0]), 3 * HOP_SIZE)
    assert up[:HOP_SIZE].tolist() == list(range(64))
    assert up[HOP_SIZE : 2 * HOP_SIZE].tolist() == list(range(64, 0, -1))
    assert np.all(up[2 * HOP_SIZE :] == 0.0)
    assert synth.upsample(np.ones((5, 3))).shape == (4 * HOP_SIZE, 3)


# --------------------------------------------------------------------------------------- harmonics


def test_pure_tone_frequency_level_and_phase():
    t = 251
    x = tone(np.full(t, 440.0), np.full(t, 0.5), np.eye(8)[[0] * t])
    n = np.arange(x.size)
    np.testing.assert_allclose(x, 0.5 * np.sin(2 * np.pi * 440.0 * n / SR), atol=1e-9)
    assert np.sqrt(np.mean(x**2)) == pytest.approx(0.5 / np.sqrt(2), rel=1e-3)
    assert spectrum_peak_hz(x) == pytest.approx(440.0, abs=1.0)


def test_harmonics_above_nyquist_are_removed():
    t = 126
    x = tone(np.full(t, 3000.0), np.full(t, 0.6), np.ones((t, 5)))
    mag = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    freqs = np.fft.rfftfreq(x.size, 1 / SR)
    peaks = freqs[mag > 0.01 * mag.max()]
    assert set(np.round(peaks / 1000).astype(int)) == {3, 6}  # 9, 12, 15 kHz are gone
    expected = 0.3 * (
        np.sin(2 * np.pi * 3000 * np.arange(x.size) / SR) + np.sin(2 * np.pi * 6000 * np.arange(x.size) / SR)
    )
    np.testing.assert_allclose(x, expected, atol=1e-9)


def test_no_phase_drift_over_60_seconds():
    n = 60 * SR
    t = n // HOP_SIZE + 1
    # Constant f0 that is not a whole number of samples per period.
    x = tone(np.full(t, 440.3), np.ones(t), np.eye(2)[[0] * t], n_samples=n)
    idx = np.arange(n - SR, n)
    assert np.max(np.abs(x[idx] - np.sin(2 * np.pi * 440.3 * idx / SR))) < 1e-7
    # A linear glide 200 -> 900 Hz: phase = 2*pi/SR * (n*f_a + slope * n(n-1)/2) exactly.
    f0 = np.linspace(200.0, 900.0, t)
    x = tone(f0, np.ones(t), np.eye(2)[[0] * t], n_samples=n)
    slope = (900.0 - 200.0) / ((t - 1) * HOP_SIZE)
    nn = idx.astype(np.float64)
    phase = 2 * np.pi / SR * (nn * 200.0 + slope * nn * (nn - 1) / 2)
    assert np.max(np.abs(x[idx] - np.sin(phase))) < 1e-6


def test_streaming_chunks_continue_phase_and_noise():
    rng = np.random.default_rng(3)
    t = 41
    ctl = {
        "f0_hz": np.linspace(300, 500, t),
        "amplitude": np.full(t, 0.3),
        "harmonic_distribution": rng.uniform(0, 1, (t, 6)),
        "noise_magnitudes": rng.uniform(0, 0.1, (t, 8)),
    }
    whole = synth.synthesize(ctl)
    _, carry = synth.harmonic_phase(synth.upsample(ctl["f0_hz"])[: 20 * HOP_SIZE])
    second = synth.synthesize({k: v[20:] for k, v in ctl.items()}, offset=20 * HOP_SIZE, initial_phase=carry)
    np.testing.assert_allclose(second, whole[20 * HOP_SIZE :], atol=1e-9)


# ------------------------------------------------------------------------------------------- noise


def test_mulberry32_matches_the_js_reference():
    # Values printed by the canonical JS mulberry32 (Math.imul version) in node.
    assert synth.mulberry32_uniform(1234, 5).tolist() == [
        0.07329497812315822,
        0.7034119898453355,
        0.9028560190927237,
        0.9705493662040681,
        0.04096397617831826,
    ]
    assert synth.mulberry32_uniform(-5, 3).tolist() == [0.48384718922898173, 0.05296749505214393, 0.9390332337934524]


def test_noise_table_bands_sum_to_unit_white_noise():
    table = synth.noise_table(16)
    assert table.shape == (16, NOISE_TABLE_SIZE)
    total = table.sum(axis=0)
    assert np.var(total) == pytest.approx(1.0, rel=1e-9) and abs(total.mean()) < 1e-12
    mag = np.abs(np.fft.rfft(total))[1:-1]
    np.testing.assert_allclose(mag, NOISE_TABLE_SIZE / np.sqrt(NOISE_TABLE_SIZE - 2.0), rtol=1e-9)  # flat
    assert synth.noise_table(16, seed=NOISE_SEED) is table  # built once


@pytest.mark.parametrize("band", [0, 5, 15])
def test_band_noise_stays_in_its_band(band):
    n_bands, t = 16, NOISE_TABLE_SIZE // HOP_SIZE + 1
    mags = np.zeros((t, n_bands))
    mags[:, band] = 0.5
    x = tone(np.full(t, 200.0), np.full(t, 1e-7), np.ones((t, 1)) * 0.0, noise=mags)
    power = np.abs(np.fft.rfft(x)) ** 2
    freqs = np.fft.rfftfreq(x.size, 1 / SR)
    lo, hi = band * SR / 2 / n_bands, (band + 1) * SR / 2 / n_bands
    inside = (freqs >= lo - 1) & (freqs <= hi + 1)
    assert power[inside].sum() / power.sum() > 0.999
    assert np.var(x) == pytest.approx(0.25 / n_bands, rel=0.02)  # each band holds 1/B of the variance


# ------------------------------------------------------------------------------------------ reverb


def test_impulse_through_reverb_returns_the_ir():
    rng = np.random.default_rng(0)
    ir = rng.standard_normal(800) * np.exp(-np.arange(800) / 200)
    impulse = np.zeros(4000)
    impulse[0] = 1.0
    out = synth.apply_reverb(impulse, ir)
    np.testing.assert_allclose(out - impulse, np.r_[ir, np.zeros(3200)], atol=1e-10)
    shifted = np.roll(impulse, 1000)
    np.testing.assert_allclose(synth.apply_reverb(shifted, ir)[1000:1800] - shifted[1000:1800], ir, atol=1e-10)


def test_tf_reverb_layer_impulse_response():
    tf = pytest.importorskip("tensorflow")
    from sounds_kit.model import tf_synth

    layer = tf_synth.Reverb(seconds=0.05, seed=1)
    ir = layer.impulse_response().numpy()
    assert ir.shape == (800,) and ir[0] == 0.0
    assert np.sum(ir**2) == pytest.approx(0.01, rel=1e-3)  # starts at -20 dB wet
    assert np.all(np.abs(ir[600:]) < np.abs(ir[1:200]).max())  # decaying
    impulse = np.zeros((1, 2000), np.float32)
    impulse[0, 0] = 1.0
    out = layer(tf.constant(impulse)).numpy()[0]
    np.testing.assert_allclose(out[:800], np.r_[1.0, ir[1:]], atol=1e-6)
    np.testing.assert_allclose(out[800:], 0.0, atol=1e-6)


# -------------------------------------------------------------------------------------- TF parity


def random_controls(rng, t, k, b):
    f0 = 100 * 2 ** np.cumsum(rng.normal(0, 0.05, t)) * rng.uniform(1, 8)
    return {
        "f0_hz": np.clip(f0, 65, 2000),
        "amplitude": rng.uniform(0, 0.5, (t, 1)),
        "harmonic_distribution": C.exp_sigmoid(rng.normal(0, 2, (t, k))),
        "noise_magnitudes": C.exp_sigmoid(rng.normal(-4, 1, (t, b))),
    }


def snr_db(ref, x):
    return 10 * np.log10(np.sum(ref**2) / np.sum((ref - x) ** 2))


def test_tf_synth_matches_numpy_synth():
    tf = pytest.importorskip("tensorflow")
    from sounds_kit.model import tf_synth

    rng = np.random.default_rng(7)
    t, k, b = 126, 40, 24
    batch = [random_controls(rng, t, k, b) for _ in range(3)]
    ir = (rng.standard_normal(400) * np.exp(-np.arange(400) / 80) * 0.02).astype(np.float32)
    stack = {key: np.stack([c[key] for c in batch]).astype(np.float32) for key in batch[0]}
    out = tf_synth.synthesize(
        stack["f0_hz"], stack["amplitude"], stack["harmonic_distribution"], stack["noise_magnitudes"], tf.constant(ir)
    ).numpy()
    assert out.shape == (3, (t - 1) * HOP_SIZE) and out.dtype == np.float32
    for i, ctl in enumerate(batch):
        ref = synth.synthesize({**{k2: v.astype(np.float32) for k2, v in ctl.items()}, "reverb_ir": ir})
        assert snr_db(ref, out[i]) > 70.0


def test_tf_phase_is_the_running_sum_of_f0():
    """Training's phase is computed per hop in closed form; it must equal the numpy synth's running
    sum over every sample (float64) over a minute of wild pitch, where any slip would accumulate."""
    pytest.importorskip("tensorflow")
    from sounds_kit.model import tf_synth

    rng = np.random.default_rng(7)
    f0 = np.exp(rng.uniform(np.log(50.0), np.log(4000.0), (2, 15001))).astype(np.float32)  # 60 s
    got = tf_synth.phase_cycles(f0).numpy().reshape(2, -1)
    for row, cycles in zip(f0, got, strict=True):
        want, _ = synth.harmonic_phase(synth.upsample(row.astype(np.float64)[:, None])[:, 0])
        slip = np.abs(cycles - want)
        assert np.minimum(slip, 1.0 - slip).max() < 1e-8  # cycles; float64 rounding is ~1e-12


@pytest.mark.parametrize("n_harmonics", [40, 100])
def test_tf_harmonic_synth_renders_only_what_sounds_without_changing_the_sum(n_harmonics):
    """The synth renders each hop's harmonics below Nyquist only, in the compiled kernel or in chunks
    of hops with banks of their own width; the audio must be the plain sum over every harmonic (checked
    against float64), and the gradient in the controls the plain sum's."""
    tf = pytest.importorskip("tensorflow")
    from sounds_kit.model import tf_synth

    rng = np.random.default_rng(3)
    t = 90
    # f0 from 60 Hz (every harmonic below Nyquist) to 12 kHz (none), through every width: rising,
    # and (second row) falling; 178 hops, so 6 silent ones pad them to a multiple of HOP_CHUNKS.
    rise = np.geomspace(60.0, 12000.0, t)
    f0 = tf.constant(np.stack([rise, rise[::-1] * 0.93]).astype(np.float32))
    amp = tf.constant(rng.uniform(0.1, 0.5, (2, t, 1)).astype(np.float32))
    dist = tf.constant(C.exp_sigmoid(rng.normal(0, 2, (2, t, n_harmonics))).astype(np.float32))

    def plain(f0_hz, amplitudes):  # every harmonic, audio-rate amplitudes
        bank = tf_synth.sine_bank(tf.reshape(tf_synth.phase_cycles(f0_hz), [2, -1]), n_harmonics)
        return tf.reduce_sum(tf_synth.upsample(amplitudes) * bank, axis=-1)

    def chunks(f0_hz, amplitudes):
        return tf_synth.harmonic_synth(f0_hz, amplitudes, compiled=False)

    def kernel(f0_hz, amplitudes):  # compiled=True raises where the kernel cannot be built: no skip
        return tf_synth.harmonic_synth(f0_hz, amplitudes, compiled=True)

    # The ungrouped form is what XLA compiles (jit_compile cannot size the chunks' banks).
    ungrouped = tf.function(lambda f, a: tf_synth.harmonic_synth(f, a, grouped=False), jit_compile=True)
    forms = {"chunks": chunks, "chunks traced": tf.function(chunks), "kernel": kernel}
    forms.update({"kernel traced": tf.function(kernel), "ungrouped": ungrouped, "plain": plain})
    outputs, grads = {}, {}
    for name, synth_fn in forms.items():
        with tf.GradientTape() as tape:
            tape.watch([amp, dist])
            audio = synth_fn(f0, tf_synth.harmonic_amplitudes(f0, amp, dist))
            energy = tf.reduce_sum(audio * tf.sin(tf.range(audio.shape[1], dtype=tf.float32)))
        outputs[name] = audio.numpy()
        grads[name] = [g.numpy() for g in tape.gradient(energy, [amp, dist])]

    amps = tf_synth.harmonic_amplitudes(f0, amp, dist).numpy().astype(np.float64)
    cycles = tf_synth.phase_cycles(f0).numpy().reshape(2, -1, 1)  # float64, checked above against synth.py
    harmonics = np.arange(1, n_harmonics + 1)
    rows = zip(amps, cycles, strict=True)
    exact = np.stack([np.sum(synth.upsample(a) * np.sin(2 * np.pi * harmonics * c), axis=-1) for a, c in rows])
    assert np.abs(exact[0, -HOP_SIZE * 2 :]).max() == 0 and np.abs(exact[1, : HOP_SIZE * 2]).max() == 0  # no harmonic
    scale = np.abs(exact).max()
    for name, audio in outputs.items():
        # float32 angles of harmonic 100 are ~5e-5 rad out; the kernel's, from a float32 phasor rotated
        # k times, ~k * 6e-8 rad (measured 4e-7 of the peak here)
        tolerance = 4e-6 if name.startswith("kernel") else 2e-5
        np.testing.assert_allclose(audio, exact, atol=tolerance * scale, err_msg=name)
        for got, ref in zip(grads[name], grads["plain"], strict=True):
            np.testing.assert_allclose(got, ref, atol=2e-5 * np.abs(ref).max(), err_msg=name)


def test_tf_harmonic_synth_chunks_that_need_no_padding():
    """Hops are padded with silent ones to a multiple of HOP_CHUNKS; when the count is already a
    multiple there is no padding, and the audio must still be the plain sum."""
    tf = pytest.importorskip("tensorflow")
    from sounds_kit.model import tf_synth

    rows, hops = 2, 2 * tf_synth.HOP_CHUNKS  # 2 rows of 2 * HOP_CHUNKS hops: no silent hop
    f0 = tf.constant(np.geomspace([150.0, 900.0], [700.0, 200.0], hops + 1).T.astype(np.float32))
    dist = np.random.default_rng(0).uniform(0, 1, (rows, hops + 1, 24)).astype(np.float32)
    amps = tf_synth.harmonic_amplitudes(f0, tf.fill([rows, hops + 1, 1], 0.1), dist)
    bank = tf_synth.sine_bank(tf.reshape(tf_synth.phase_cycles(f0), [rows, -1]), 24)
    want = tf.reduce_sum(tf_synth.upsample(amps) * bank, axis=-1).numpy()
    got = tf_synth.harmonic_synth(f0, amps, compiled=False).numpy()
    assert got.shape == want.shape == (rows, hops * HOP_SIZE)
    np.testing.assert_allclose(got, want, atol=1e-6 * np.abs(want).max())


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("frames", [1, 2])
def test_tf_harmonic_synth_of_one_hop_or_none(frames, compiled):
    """One frame has no hop (empty audio, every chunk silent); two frames one hop, padded to the chunks."""
    tf = pytest.importorskip("tensorflow")
    from sounds_kit.model import tf_synth

    f0 = tf.fill([1, frames], 300.0)
    amps = tf.fill([1, frames, 24], 0.01)
    bank = tf_synth.sine_bank(tf.reshape(tf_synth.phase_cycles(f0), [1, -1]), 24)
    want = tf.reduce_sum(tf_synth.upsample(amps) * bank, axis=-1).numpy()
    got = tf_synth.harmonic_synth(f0, amps, compiled=compiled).numpy()
    assert got.shape == want.shape == (1, (frames - 1) * HOP_SIZE)
    np.testing.assert_allclose(got, want, atol=1e-6)


def test_sine_bank_outer_product_equals_the_broadcast_multiply():
    """The CPU's matrix-product angles and the broadcast multiply (GPUs with TF32) give one bank."""
    pytest.importorskip("tensorflow")
    from sounds_kit.model import tf_synth

    cycles = np.random.default_rng(2).uniform(0, 1, (3, 5, HOP_SIZE)).astype(np.float32)
    product = tf_synth.sine_bank(cycles, 48, outer_product=True).numpy()
    broadcast = tf_synth.sine_bank(cycles, 48, outer_product=False).numpy()
    want = np.sin(2 * np.pi * cycles.astype(np.float64)[..., None] * np.arange(1, 49))
    assert product.shape == broadcast.shape == (3, 5, HOP_SIZE, 48)
    np.testing.assert_allclose(product, broadcast, atol=1e-5)
    np.testing.assert_allclose(product, want, atol=1e-4)  # float32 angles below 2 pi 48: ~2e-5 rad


def test_tf_synth_is_differentiable_in_the_controls():
    tf = pytest.importorskip("tensorflow")
    from sounds_kit.model import tf_synth

    rng = np.random.default_rng(1)
    ctl = random_controls(rng, 21, 8, 4)
    amp = tf.Variable(ctl["amplitude"][None].astype(np.float32))
    noise = tf.Variable(ctl["noise_magnitudes"][None].astype(np.float32))
    with tf.GradientTape() as tape:
        audio = tf_synth.synthesize(
            ctl["f0_hz"][None].astype(np.float32), amp, ctl["harmonic_distribution"][None].astype(np.float32), noise
        )
        energy = tf.reduce_sum(audio**2)
    g_amp, g_noise = tape.gradient(energy, [amp, noise])
    assert np.all(np.isfinite(g_amp.numpy())) and np.abs(g_amp.numpy()).sum() > 0
    assert np.abs(g_noise.numpy()).sum() > 0


# ---------------------------------------------------------------------------------------- analysis


def test_analysis_targets_resynthesise_the_target():
    from sounds_kit.model.loss import spectral_loss_np

    rng = np.random.default_rng(2)
    t, k, b = 251, 30, 16
    time = np.arange(t) / 250
    f0 = 196.0 * 2 ** (0.4 * np.sin(2 * np.pi * 0.8 * time) + 0.03 * np.sin(2 * np.pi * 6 * time))
    true = {
        "f0_hz": f0,
        "amplitude": (0.3 + 0.15 * np.sin(2 * np.pi * time))[:, None],
        "harmonic_distribution": np.exp(-np.arange(k) / 5.0)[None] * (1.2 + np.sin(np.outer(time, np.arange(k)))),
        "noise_magnitudes": np.full((t, b), 0.004) * np.linspace(1, 0.2, b),
    }
    audio = synth.synthesize(true)
    targets = analysis.analyze(audio, f0, np.ones(t), k, b)
    assert targets["harmonic_distribution"].shape == (t, k) and targets["noise_magnitudes"].shape == (t, b)
    # Harmonic amplitudes are measured to within 2 % of the frame's amplitude away from the clip edges
    # (the weakest harmonics carry the noise that falls on them, hence the looser median).
    want = C.harmonic_amplitudes(f0, true["amplitude"], true["harmonic_distribution"])[8:-8]
    err = np.abs(targets["harmonic_amplitudes"][8:-8] - want)
    assert np.max(err / true["amplitude"][8:-8]) < 0.02 and np.median(err / want) < 0.1
    # Noise magnitudes are in the synth's own units (power within ~20 %).
    ratio = np.mean(targets["noise_magnitudes"][8:-8] ** 2, axis=0) / true["noise_magnitudes"][0] ** 2
    assert np.all((ratio > 0.75) & (ratio < 1.3))
    resynth = spectral_loss_np(audio, synth.synthesize(targets))
    random = spectral_loss_np(audio, synth.synthesize(random_controls(rng, t, k, b) | {"f0_hz": f0}))
    assert resynth < 0.15 * random
