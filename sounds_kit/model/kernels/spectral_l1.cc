// One scale of the multi-scale spectral loss and its gradient in the prediction's spectrum, in one pass
// over the bins (sounds_kit/model/loss.py, _value_and_gradient, is the same maths in TF ops).
//
// spectra [2R, K]: R rows (frames) of the target's spectrum, then the prediction's. With S = |X|:
//   value = (mag_weight sum |S_p - S_t| + logmag_weight sum |log(S_p + eps) - log(S_t + eps)|) / (R K)
//   grad  = X_p * (mag_weight sign(S_p - S_t) + logmag_weight sign(log ... - log ...) / (S_p + eps))
//           / S_p * bin_scale / (R K)          (0 where S_p = 0)
// where bin_scale undoes irfft's 1 / N and its doubling of the bins between 0 and Nyquist, so that an
// irfft of grad, windowed and overlap-added, is the loss's gradient in the predicted audio.
#include <cmath>
#include <complex>
#include <cstdint>
#include <vector>

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


// log(x) for normal x > 0 (here x >= eps): exponent from the bits, mantissa m in [sqrt(1/2), sqrt(2)),
// log(m) = 2 atanh(s) with s = (m - 1) / (m + 1), |s| < 0.172, by its series to s^9 (truncation below
// 4e-9). Written so the compiler vectorises it; std::log is a call per value.
static inline float log_positive(float x) {
  const int32_t bits = __builtin_bit_cast(int32_t, x);
  const int32_t high = (bits & 0x7fffff) > 0x3504f3;  // mantissa above sqrt(2): use m / 2 and exponent + 1
  const int32_t exponent = ((bits >> 23) & 0xff) - 127 + high;
  const float m = __builtin_bit_cast(float, (bits & 0x7fffff) | ((127 - high) << 23));
  const float s = (m - 1.0f) / (m + 1.0f);
  const float s2 = s * s;
  const float series = 2.0f * s * (1.0f + s2 * (1.0f / 3 + s2 * (1.0f / 5 + s2 * (1.0f / 7 + s2 * (1.0f / 9)))));
  return static_cast<float>(exponent) * 0.693147180559945f + series;
}

static inline float sign(float x) { return static_cast<float>((x > 0.0f) - (x < 0.0f)); }

struct Weights {
  float mag, logmag, eps;
};

// Rows [begin, end): the two sums of each row into row_sums[2 r], [2 r + 1]; the gradient into grad.
SK_CLONES static void rows(const float* target, const float* pred, const float* bin_scale, int64_t n_bins,
                           Weights wt, int64_t begin, int64_t end, double* row_sums, float* grad) {
  for (int64_t r = begin; r < end; ++r) {
    const float* t = target + 2 * r * n_bins;  // interleaved (re, im)
    const float* p = pred + 2 * r * n_bins;
    float* g = grad + 2 * r * n_bins;
    float sum_mag = 0.0f, sum_log = 0.0f;
#pragma omp simd reduction(+ : sum_mag, sum_log)
    for (int64_t j = 0; j < n_bins; ++j) {
      const float s_t = std::sqrt(t[2 * j] * t[2 * j] + t[2 * j + 1] * t[2 * j + 1]);
      const float s_p = std::sqrt(p[2 * j] * p[2 * j] + p[2 * j + 1] * p[2 * j + 1]);
      const float d_mag = s_p - s_t;
      const float d_log = log_positive(s_p + wt.eps) - log_positive(s_t + wt.eps);
      sum_mag += std::fabs(d_mag);
      sum_log += std::fabs(d_log);
      // log is increasing, so d_log has d_mag's sign (the approximate log might disagree at a tie)
      const float d_s = (wt.mag + wt.logmag / (s_p + wt.eps)) * sign(d_mag);
      const float k = (s_p > 0.0f ? d_s / s_p : 0.0f) * bin_scale[j];
      g[2 * j] = k * p[2 * j];
      g[2 * j + 1] = k * p[2 * j + 1];
    }
    row_sums[2 * r] = sum_mag;
    row_sums[2 * r + 1] = sum_log;
  }
}

class SpectralL1 : public OpKernel {
 public:
  explicit SpectralL1(OpKernelConstruction* ctx) : OpKernel(ctx) {
    OP_REQUIRES_OK(ctx, ctx->GetAttr("fft_size", &fft_size_));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("mag_weight", &weights_.mag));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("logmag_weight", &weights_.logmag));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("log_eps", &weights_.eps));
  }

  void Compute(OpKernelContext* ctx) override {
    const Tensor& spectra = ctx->input(0);
    const int64_t n_bins = fft_size_ / 2 + 1;
    OP_REQUIRES(ctx, spectra.dims() >= 2 && spectra.dim_size(spectra.dims() - 1) == n_bins,
                tensorflow::errors::InvalidArgument("spectra must be [..., ", n_bins, "] for fft_size ", fft_size_,
                                                    ", got ", spectra.shape().DebugString()));
    OP_REQUIRES(ctx, spectra.dim_size(0) % 2 == 0,
                tensorflow::errors::InvalidArgument("spectra must hold the target's rows then as many of the "
                                                    "prediction's, got ",
                                                    spectra.shape().DebugString()));
    tensorflow::TensorShape half = spectra.shape();
    half.set_dim(0, spectra.dim_size(0) / 2);
    Tensor* value = nullptr;
    Tensor* grad = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, tensorflow::TensorShape({}), &value));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(1, half, &grad));
    const int64_t n_rows = half.num_elements() / n_bins;
    const double count = static_cast<double>(n_rows) * n_bins;
    if (n_rows == 0) {
      value->scalar<float>()() = 0.0f;
      return;
    }
    std::vector<float> bin_scale(n_bins, static_cast<float>(0.5 * fft_size_ / count));
    bin_scale[0] = static_cast<float>(fft_size_ / count);
    if (fft_size_ % 2 == 0) bin_scale[n_bins - 1] = bin_scale[0];  // Nyquist, once in irfft
    const float* target = reinterpret_cast<const float*>(spectra.flat<std::complex<float>>().data());
    const float* pred = target + 2 * n_rows * n_bins;
    float* g = reinterpret_cast<float*>(grad->flat<std::complex<float>>().data());
    std::vector<double> row_sums(2 * n_rows);
    const float* scale = bin_scale.data();
    double* sums = row_sums.data();
    const Weights wt = weights_;
    auto* workers = ctx->device()->tensorflow_cpu_worker_threads();
    tensorflow::Shard(workers->num_threads, workers->workers, n_rows, 40 * n_bins,
                      [=](int64_t begin, int64_t end) { rows(target, pred, scale, n_bins, wt, begin, end, sums, g); });
    double mag = 0.0, log = 0.0;
    for (int64_t r = 0; r < n_rows; ++r) {
      mag += row_sums[2 * r];
      log += row_sums[2 * r + 1];
    }
    value->scalar<float>()() = static_cast<float>((wt.mag * mag + wt.logmag * log) / count);
  }

 private:
  int fft_size_;
  Weights weights_;
};

}  // namespace

REGISTER_OP("SoundsKitSpectralL1")
    .Input("spectra: complex64")
    .Attr("fft_size: int >= 1")
    .Attr("mag_weight: float")
    .Attr("logmag_weight: float")
    .Attr("log_eps: float")
    .Output("value: float32")
    .Output("grad: complex64")
    .SetShapeFn([](InferenceContext* c) {
      ShapeHandle spectra;
      TF_RETURN_IF_ERROR(c->WithRankAtLeast(c->input(0), 2, &spectra));
      tensorflow::shape_inference::DimensionHandle half;
      TF_RETURN_IF_ERROR(c->Divide(c->Dim(spectra, 0), 2, /*evenly_divisible=*/true, &half));
      ShapeHandle grad;
      TF_RETURN_IF_ERROR(c->ReplaceDim(spectra, 0, half, &grad));
      c->set_output(0, c->Scalar());
      c->set_output(1, grad);
      return tensorflow::OkStatus();
    });

REGISTER_KERNEL_BUILDER(Name("SoundsKitSpectralL1").Device(tensorflow::DEVICE_CPU), SpectralL1);
