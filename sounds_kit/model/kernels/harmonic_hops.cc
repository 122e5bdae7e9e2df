// The harmonic synth's sum for every hop, without a sine bank in memory (sounds_kit/model/kernels).
//
//   audio[n, h] = sum_{k < counts[n]} ((1 - w_h) left[n, k] + w_h right[n, k]) sin(2 pi (k + 1) c[n, h])
//
// with w_h = h / HOP: the amplitudes of a hop's two frames, interpolated linearly across it, against
// harmonics 1..counts[n] (those below Nyquist there; the rest have zero amplitude). The phase in cycles
// c[n, h] is the hop's start plus the running sum of f0 / sample_rate, f0 linear from f0_a to f0_b across
// the hop (tf_synth.phase_cycles, the same formula in TF ops). sin(k x) comes from rotating the phasor
// e^{ix} k times, a few multiplies a harmonic instead of a sin; the phase and e^{ix} are evaluated in
// double. The gradient op is the transposed sum: d_left[n, k] = sum_h grad[n, h] (1 - w_h) sin(...).
#include <cmath>
#include <cstdint>

#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/shape_inference.h"
#include "tensorflow/core/util/work_sharder.h"
#include "clones.h"

namespace {

using tensorflow::OpKernel;
using tensorflow::OpKernelConstruction;
using tensorflow::OpKernelContext;
using tensorflow::Tensor;
using tensorflow::shape_inference::InferenceContext;
using tensorflow::shape_inference::ShapeHandle;

constexpr int kHop = 64;  // sounds_kit.conventions.HOP_SIZE (checked from Python before use)
constexpr double kTwoPi = 6.283185307179586476925286766559;


// e^{i 2 pi c[h]} for one hop: c[h] = start + (f0_a h + (f0_b - f0_a) h (h - 1) / (2 HOP)) / sample_rate,
// wrapped to [0, 1); then a quarter-turn reduction and Taylor polynomials on |x| <= pi / 4 (truncation
// below 2e-9, under float rounding).
SK_CLONES static void phasors(double start, double f0_a, double f0_b, double sample_rate, float* re, float* im) {
  for (int h = 0; h < kHop; ++h) {
    const double ramp = h * (h - 1.0) / (2.0 * kHop);
    double cycles = start + (f0_a * h + (f0_b - f0_a) * ramp) / sample_rate;
    cycles -= std::floor(cycles);
    const double q = std::nearbyint(cycles * 4.0);
    const double x = (cycles - 0.25 * q) * kTwoPi;
    const double x2 = x * x;
    const double s = x * (1.0 + x2 * (-1.0 / 6 + x2 * (1.0 / 120 + x2 * (-1.0 / 5040 + x2 * (1.0 / 362880)))));
    const double c = 1.0 + x2 * (-0.5 + x2 * (1.0 / 24 + x2 * (-1.0 / 720 + x2 * (1.0 / 40320 - x2 / 3628800))));
    const int quarter = static_cast<int>(q) & 3;
    // e^{i (x + quarter pi / 2)}: multiply by i once per quarter turn.
    re[h] = static_cast<float>(quarter == 0 ? c : quarter == 1 ? -s : quarter == 2 ? -c : s);
    im[h] = static_cast<float>(quarter == 0 ? s : quarter == 1 ? c : quarter == 2 ? -s : -c);
  }
}

// A hop's phase: where it starts (cycles, wrapped) and f0 at its two ends (Hz).
struct Phase {
  const double* start;
  const double* f0_a;
  const double* f0_b;
  double sample_rate;
  void operator()(int64_t n, float* re, float* im) const { phasors(start[n], f0_a[n], f0_b[n], sample_rate, re, im); }
};

SK_CLONES static void forward(const Phase& phase, const float* left, const float* right, const int32_t* counts,
                              int64_t n_harmonics, int64_t begin, int64_t end, float* audio) {
  for (int64_t n = begin; n < end; ++n) {
    float re1[kHop], im1[kHop], re[kHop], im[kHop], acc_l[kHop], acc_r[kHop];
    phase(n, re1, im1);
    for (int h = 0; h < kHop; ++h) {
      re[h] = re1[h];
      im[h] = im1[h];
      acc_l[h] = 0.0f;
      acc_r[h] = 0.0f;
    }
    const int64_t count = std::min<int64_t>(std::max<int32_t>(counts[n], 0), n_harmonics);
    const float* l = left + n * n_harmonics;
    const float* r = right + n * n_harmonics;
    for (int64_t k = 0; k < count; ++k) {
      const float a = l[k], b = r[k];
      for (int h = 0; h < kHop; ++h) {
        acc_l[h] += a * im[h];
        acc_r[h] += b * im[h];
        const float next_re = re[h] * re1[h] - im[h] * im1[h];
        im[h] = re[h] * im1[h] + im[h] * re1[h];
        re[h] = next_re;
      }
    }
    for (int h = 0; h < kHop; ++h) {
      const float w = static_cast<float>(h) / kHop;
      audio[n * kHop + h] = (1.0f - w) * acc_l[h] + w * acc_r[h];
    }
  }
}

SK_CLONES static void backward(const Phase& phase, const int32_t* counts, const float* grad, int64_t n_harmonics,
                               int64_t begin, int64_t end, float* d_left, float* d_right) {
  for (int64_t n = begin; n < end; ++n) {
    float re1[kHop], im1[kHop], re[kHop], im[kHop], g_l[kHop], g_r[kHop];
    phase(n, re1, im1);
    for (int h = 0; h < kHop; ++h) {
      const float w = static_cast<float>(h) / kHop;
      re[h] = re1[h];
      im[h] = im1[h];
      g_l[h] = (1.0f - w) * grad[n * kHop + h];
      g_r[h] = w * grad[n * kHop + h];
    }
    const int64_t count = std::min<int64_t>(std::max<int32_t>(counts[n], 0), n_harmonics);
    float* dl = d_left + n * n_harmonics;
    float* dr = d_right + n * n_harmonics;
    for (int64_t k = 0; k < count; ++k) {
      float sum_l = 0.0f, sum_r = 0.0f;
#pragma omp simd reduction(+ : sum_l, sum_r)
      for (int h = 0; h < kHop; ++h) {
        sum_l += g_l[h] * im[h];
        sum_r += g_r[h] * im[h];
      }
      for (int h = 0; h < kHop; ++h) {
        const float next_re = re[h] * re1[h] - im[h] * im1[h];
        im[h] = re[h] * im1[h] + im[h] * re1[h];
        re[h] = next_re;
      }
      dl[k] = sum_l;
      dr[k] = sum_r;
    }
    for (int64_t k = count; k < n_harmonics; ++k) {
      dl[k] = 0.0f;
      dr[k] = 0.0f;
    }
  }
}

// The inputs' shapes: start, f0_a and f0_b [N] float64, left and right [N, K], counts [N].
tensorflow::Status check_shapes(const Tensor& start, const Tensor& f0_a, const Tensor& f0_b, const Tensor& left,
                                const Tensor& right, const Tensor& counts) {
  if (start.dims() != 1 || !start.IsSameSize(f0_a) || !start.IsSameSize(f0_b)) {
    return tensorflow::errors::InvalidArgument("start, f0_a and f0_b must all be [hops], got ",
                                               start.shape().DebugString(), ", ", f0_a.shape().DebugString(), ", ",
                                               f0_b.shape().DebugString());
  }
  const int64_t n = start.dim_size(0);
  if (left.dims() != 2 || left.dim_size(0) != n || !left.IsSameSize(right)) {
    return tensorflow::errors::InvalidArgument("left and right must both be [hops, harmonics] with ", n,
                                               " hops, got ", left.shape().DebugString(), " and ",
                                               right.shape().DebugString());
  }
  if (counts.dims() != 1 || counts.dim_size(0) != n) {
    return tensorflow::errors::InvalidArgument("counts must be [", n, "], got ", counts.shape().DebugString());
  }
  return tensorflow::OkStatus();
}

// Splits the hops over the op's thread pool (one thread under the kit's training setup: threads.py).
template <typename Fn>
void over_hops(OpKernelContext* ctx, int64_t n_hops, int64_t n_harmonics, Fn fn) {
  auto* workers = ctx->device()->tensorflow_cpu_worker_threads();
  tensorflow::Shard(workers->num_threads, workers->workers, n_hops, 8 * kHop * (n_harmonics + 4), fn);
}

class HarmonicHops : public OpKernel {
 public:
  explicit HarmonicHops(OpKernelConstruction* ctx) : OpKernel(ctx) {
    OP_REQUIRES_OK(ctx, ctx->GetAttr("sample_rate", &sample_rate_));
  }

  void Compute(OpKernelContext* ctx) override {
    const Tensor &start = ctx->input(0), &f0_a = ctx->input(1), &f0_b = ctx->input(2);
    const Tensor &left = ctx->input(3), &right = ctx->input(4), &counts = ctx->input(5);
    OP_REQUIRES_OK(ctx, check_shapes(start, f0_a, f0_b, left, right, counts));
    Tensor* audio = nullptr;
    const int64_t n = start.dim_size(0), k = left.dim_size(1);
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, tensorflow::TensorShape({n, kHop}), &audio));
    const Phase phase{start.flat<double>().data(), f0_a.flat<double>().data(), f0_b.flat<double>().data(),
                      sample_rate_};
    const float* l = left.flat<float>().data();
    const float* r = right.flat<float>().data();
    const int32_t* c = counts.flat<int32_t>().data();
    float* out = audio->flat<float>().data();
    over_hops(ctx, n, k, [=](int64_t begin, int64_t end) { forward(phase, l, r, c, k, begin, end, out); });
  }

 private:
  float sample_rate_;
};

class HarmonicHopsGrad : public OpKernel {
 public:
  explicit HarmonicHopsGrad(OpKernelConstruction* ctx) : OpKernel(ctx) {
    OP_REQUIRES_OK(ctx, ctx->GetAttr("sample_rate", &sample_rate_));
  }

  void Compute(OpKernelContext* ctx) override {
    const Tensor &start = ctx->input(0), &f0_a = ctx->input(1), &f0_b = ctx->input(2);
    const Tensor &left = ctx->input(3), &counts = ctx->input(4), &grad = ctx->input(5);  // left: its shape only
    OP_REQUIRES_OK(ctx, check_shapes(start, f0_a, f0_b, left, left, counts));
    const int64_t n = start.dim_size(0), k = left.dim_size(1);
    OP_REQUIRES(ctx, grad.dims() == 2 && grad.dim_size(0) == n && grad.dim_size(1) == kHop,
                tensorflow::errors::InvalidArgument("grad must be [", n, ", ", kHop, "], got ",
                                                    grad.shape().DebugString()));
    Tensor* d_left = nullptr;
    Tensor* d_right = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, left.shape(), &d_left));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(1, left.shape(), &d_right));
    const Phase phase{start.flat<double>().data(), f0_a.flat<double>().data(), f0_b.flat<double>().data(),
                      sample_rate_};
    const int32_t* c = counts.flat<int32_t>().data();
    const float* g = grad.flat<float>().data();
    float* dl = d_left->flat<float>().data();
    float* dr = d_right->flat<float>().data();
    over_hops(ctx, n, k, [=](int64_t begin, int64_t end) { backward(phase, c, g, k, begin, end, dl, dr); });
  }

 private:
  float sample_rate_;
};

}  // namespace

REGISTER_OP("SoundsKitHarmonicHops")
    .Input("start: float64")
    .Input("f0_a: float64")
    .Input("f0_b: float64")
    .Input("left: float32")
    .Input("right: float32")
    .Input("counts: int32")
    .Attr("sample_rate: float")
    .Output("audio: float32")
    .SetShapeFn([](InferenceContext* c) {
      ShapeHandle start;
      TF_RETURN_IF_ERROR(c->WithRank(c->input(0), 1, &start));
      c->set_output(0, c->Matrix(c->Dim(start, 0), kHop));
      return tensorflow::OkStatus();
    });

REGISTER_OP("SoundsKitHarmonicHopsGrad")
    .Input("start: float64")
    .Input("f0_a: float64")
    .Input("f0_b: float64")
    .Input("left: float32")
    .Input("counts: int32")
    .Input("grad: float32")
    .Attr("sample_rate: float")
    .Output("d_left: float32")
    .Output("d_right: float32")
    .SetShapeFn([](InferenceContext* c) {
      c->set_output(0, c->input(3));
      c->set_output(1, c->input(3));
      return tensorflow::OkStatus();
    });

REGISTER_KERNEL_BUILDER(Name("SoundsKitHarmonicHops").Device(tensorflow::DEVICE_CPU), HarmonicHops);
REGISTER_KERNEL_BUILDER(Name("SoundsKitHarmonicHopsGrad").Device(tensorflow::DEVICE_CPU), HarmonicHopsGrad);
