// Every k-diffusion sampler golden (12 samplers x 3 schedules x 2 closed-form denoisers) replayed with the recorded
// noise, plus the ComfyUI-only samplers by their exact equalities, cancellation, seeding and input checks.
#include "gesso/diffusion/sampler.h"

#include "gesso/diffusion/schedulers.h"
#include "gesso/error.h"
#include "gesso/io/safetensors.h"
#include "golden.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <QtTest>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>

using namespace gesso::diffusion;
using gesso::ErrorCode;
using gesso::GessoError;

namespace {

nlohmann::json loadSamplersJson() {
  std::ifstream in(gesso::test::goldenPath("samplers.json"));
  return nlohmann::json::parse(in);
}

// The closed-form posterior mean for data N(mu, s^2) per element (GOLDENS.md (c)).
DenoiseFunction gaussDenoiser(const at::Tensor& mu, double s) {
  return [mu, s](const at::Tensor& x, const at::Tensor& sigma) {
    const at::Tensor sig = sigma.reshape({-1, 1, 1, 1});  // [B, 1, 1, 1]
    return (s * s * x + sig * sig * mu.to(x.dtype())) / (s * s + sig * sig);
  };
}

// The exact posterior mean for a per-element 2-component Gaussian mixture (GOLDENS.md (c)).
DenoiseFunction gmmDenoiser(std::vector<double> w, std::vector<double> m, std::vector<double> s) {
  return [w, m, s](const at::Tensor& x, const at::Tensor& sigma) {
    const at::Tensor sig2 = sigma.reshape({-1, 1, 1, 1}).pow(2);  // [B, 1, 1, 1]
    std::vector<at::Tensor> logits, means;
    for (size_t k = 0; k < w.size(); ++k) {
      const at::Tensor v = s[k] * s[k] + sig2;
      logits.push_back(std::log(w[k]) - 0.5 * at::log(2 * M_PI * v) - (x - m[k]).pow(2) / (2 * v));
      means.push_back((s[k] * s[k] * x + sig2 * m[k]) / v);
    }
    const at::Tensor r = at::softmax(at::stack(logits, 0), 0);  // [K, B, C, H, W]
    return (r * at::stack(means, 0)).sum(0);
  };
}

// Returns the recorded draws in call order and checks each call's (sigma, sigma_next) against the record.
class ReplayNoise : public NoiseSampler {
 public:
  ReplayNoise(at::Tensor draws, std::vector<std::pair<double, double>> calls)
      : draws_(std::move(draws)), calls_(std::move(calls)) {}
  at::Tensor next(double sigma, double sigma_next) override {
    if (count_ >= draws_.size(0)) {
      ++count_;
      return at::zeros_like(draws_[0]);
    }
    if (count_ < static_cast<int64_t>(calls_.size())) {
      const auto [expected_sigma, expected_next] = calls_[count_];
      worst_call_error_ = std::max({worst_call_error_, std::fabs(sigma - expected_sigma) / expected_sigma,
                                    std::fabs(sigma_next - expected_next) / std::max(expected_next, 1e-12)});
    }
    return draws_[count_++];
  }
  int64_t count() const { return count_; }
  double worstCallError() const { return worst_call_error_; }

 private:
  at::Tensor draws_;
  std::vector<std::pair<double, double>> calls_;
  int64_t count_ = 0;
  double worst_call_error_ = 0;
};

struct Recorder {
  std::vector<at::Tensor> x, denoised;
  std::vector<double> sigma_hat;
  StepCallback callback() {
    return [this](const StepInfo& info) {
      x.push_back(info.x.clone());
      denoised.push_back(info.denoised.clone());
      sigma_hat.push_back(info.sigma_hat);
    };
  }
};

// Gaussian data denoiser with scalar mu for the property tests.
DenoiseFunction simpleGauss(double mu, double s) {
  return [mu, s](const at::Tensor& x, const at::Tensor& sigma) {
    const at::Tensor sig = sigma.reshape({-1, 1, 1, 1});  // [B, 1, 1, 1]
    return (s * s * x + sig * sig * mu) / (s * s + sig * sig);
  };
}

at::Tensor sdKarras(int n) {
  const DiscreteSchedule schedule = DiscreteSchedule::stableDiffusion();
  return karrasSigmas(n, schedule.sigmaMin(), schedule.sigmaMax());
}

at::Tensor runSampler(const std::string& name, const at::Tensor& x, const at::Tensor& sigmas, std::shared_ptr<NoiseSampler> noise,
                      SamplerOptions options = {}, Recorder* recorder = nullptr) {
  SamplerContext context;
  context.denoiser = simpleGauss(0.25, 0.5);
  context.noise_sampler = std::move(noise);
  context.options = options;
  if (recorder) context.on_step = recorder->callback();
  return sample(name, context, x, sigmas);
}

// A fixed stack of draws shared by two runs, replayed independently.
std::shared_ptr<NoiseSampler> replay(const at::Tensor& draws) {
  return std::make_shared<ReplayNoise>(draws, std::vector<std::pair<double, double>>{});
}

// UniPC as its reference states it, in variance-preserving coordinates (x_vp = x / sqrt(1 + sigma^2), alpha, std and
// lambda = log alpha - log std), with the linear systems solved by at::linalg_solve. An independent statement of the
// algorithm that the sigma-space port must reproduce.
at::Tensor referenceUniPc(const DenoiseFunction& denoiser, at::Tensor x, std::vector<double> sigmas, bool bh2) {
  if (sigmas.back() < 0.001) sigmas.back() = 0.001;
  const auto alpha = [](double s) { return 1 / std::sqrt(1 + s * s); };
  const auto stdev = [](double s) { return s / std::sqrt(1 + s * s); };
  const auto lambda = [&](double s) { return std::log(alpha(s)) - std::log(stdev(s)); };
  const auto model = [&](const at::Tensor& x_vp, double s) {
    const at::Tensor x_ve = x_vp * std::sqrt(1 + s * s);
    const at::Tensor eps = (x_ve - denoiser(x_ve, at::full({x_vp.size(0)}, s, x_vp.options()))) / s;
    return (x_vp - stdev(s) * eps) / alpha(s);
  };
  const auto update = [&](const at::Tensor& x_in, const std::vector<at::Tensor>& models, const std::vector<double>& ts, double t,
                          int order, bool corrector, at::Tensor* model_out) {
    const double t0 = ts.back();
    const double h = lambda(t) - lambda(t0);
    std::vector<double> rks;
    std::vector<at::Tensor> d1s;
    for (int i = 1; i < order; ++i) {
      const double rk = (lambda(ts[ts.size() - 1 - i]) - lambda(t0)) / h;
      rks.push_back(rk);
      d1s.push_back((models[models.size() - 1 - i] - models.back()) / rk);
    }
    rks.push_back(1.0);
    const double hh = -h;
    const double h_phi_1 = std::expm1(hh);
    const double b_h = bh2 ? std::expm1(hh) : hh;
    double h_phi_k = h_phi_1 / hh - 1, factorial = 1;
    at::Tensor r = at::empty({order, order}, at::kDouble), b = at::empty({order}, at::kDouble);
    for (int i = 1; i <= order; ++i) {
      for (int k = 0; k < order; ++k) r[i - 1][k] = std::pow(rks[k], i - 1);
      b[i - 1] = h_phi_k * factorial / b_h;
      factorial *= i + 1;
      h_phi_k = h_phi_k / hh - 1 / factorial;
    }
    const at::Tensor base = stdev(t) / stdev(t0) * x_in - alpha(t) * h_phi_1 * models.back();
    at::Tensor x_t = base;
    if (!d1s.empty()) {
      const at::Tensor rhos_p =
          order == 2 ? at::full({1}, 0.5, at::kDouble) : at::linalg_solve(r.slice(0, 0, -1).slice(1, 0, -1), b.slice(0, 0, -1));
      at::Tensor res = at::zeros_like(x_in);
      for (size_t k = 0; k < d1s.size(); ++k) res = res + rhos_p[k].item<double>() * d1s[k];
      x_t = base - alpha(t) * b_h * res;
    }
    if (!corrector) return x_t;
    const at::Tensor rhos_c = order == 1 ? at::full({1}, 0.5, at::kDouble) : at::linalg_solve(r, b);
    *model_out = model(x_t, t);
    at::Tensor res = rhos_c[order - 1].item<double>() * (*model_out - models.back());
    for (size_t k = 0; k < d1s.size(); ++k) res = res + rhos_c[k].item<double>() * d1s[k];
    return base - alpha(t) * b_h * res;
  };
  const int steps = static_cast<int>(sigmas.size()) - 1;
  const int order = std::max(1, std::min(3, steps - 1));
  x = x / std::sqrt(1 + sigmas[0] * sigmas[0]);
  std::vector<double> ts{sigmas[0]};
  std::vector<at::Tensor> models{model(x, sigmas[0])};
  for (int step = 1; step < order; ++step) {
    at::Tensor m;
    x = update(x, models, ts, sigmas[step], step, true, &m);
    ts.push_back(sigmas[step]);
    models.push_back(m);
  }
  for (int step = order; step <= steps; ++step) {
    at::Tensor m;
    x = update(x, models, ts, sigmas[step], std::min(order, steps + 1 - step), step != steps, &m);
    if (step == steps) break;
    ts.erase(ts.begin());
    models.erase(models.begin());
    ts.push_back(sigmas[step]);
    models.push_back(m);
  }
  return x / alpha(sigmas.back());
}

}  // namespace

class SamplersTest : public QObject {
  Q_OBJECT

 private slots:
  void matchesKdiffusion_data() {
    QTest::addColumn<int>("index");
    if (!gesso::test::goldenAvailable()) {
      QTest::newRow("no shared data") << -1;
      return;
    }
    const nlohmann::json cases = loadSamplersJson()["cases"];
    QCOMPARE(cases.size(), size_t(72));
    for (size_t i = 0; i < cases.size(); ++i) QTest::newRow(cases[i]["key"].get<std::string>().c_str()) << static_cast<int>(i);
  }

  void matchesKdiffusion() {
    GESSO_REQUIRE_SHARED();
    QFETCH(int, index);
    static const nlohmann::json spec = loadSamplersJson();
    static const auto file = gesso::test::openGolden("samplers.safetensors");
    const nlohmann::json& c = spec["cases"][index];
    const std::string key = c["key"];
    const std::string schedule = c["schedule"];
    const std::string denoiser_name = c["denoiser"];
    const std::string sampler_name = key.substr(0, key.find('/'));

    SamplerContext context;
    if (denoiser_name == "gauss") {
      context.denoiser = gaussDenoiser(gesso::test::goldenTensor(*file, "denoiser/gauss/mu"), spec["denoisers"]["gauss"]["s"]);
    } else {
      const auto& g = spec["denoisers"]["gmm"];
      context.denoiser = gmmDenoiser(g["w"], g["m"], g["s"]);
    }
    // The kwargs of the reference call.
    const auto& kwargs = c["kwargs"];
    if (kwargs.contains("eta")) context.options.eta = kwargs["eta"].get<double>();
    if (kwargs.contains("s_noise")) context.options.s_noise = kwargs["s_noise"];
    if (kwargs.contains("r")) context.options.sde_r = kwargs["r"];
    if (kwargs.contains("order")) context.options.lms_order = kwargs["order"];
    if (kwargs.contains("s_churn")) context.options.s_churn = kwargs["s_churn"];

    const int64_t draws = c["n_noise_draws"];
    std::shared_ptr<ReplayNoise> noise;
    if (draws > 0) {
      std::vector<std::pair<double, double>> calls;
      for (const auto& call : c["noise_calls_sigma_sigma_next"]) calls.emplace_back(call[0].get<double>(), call[1].get<double>());
      noise = std::make_shared<ReplayNoise>(gesso::test::goldenTensor(*file, key + "/noise"), calls);
    } else {
      noise = std::make_shared<ReplayNoise>(at::empty({0, 2, 4, 4, 4}), std::vector<std::pair<double, double>>{});
    }
    context.noise_sampler = noise;
    Recorder recorder;
    context.on_step = recorder.callback();

    const at::Tensor sigmas = gesso::test::goldenTensor(*file, "schedule/" + schedule + "/sigmas");
    const at::Tensor x_init = gesso::test::goldenTensor(*file, "schedule/" + schedule + "/x_init");
    const at::Tensor x_out = sample(sampler_name, context, x_init, sigmas);

    QCOMPARE(noise->count(), draws);
    qInfo().noquote() << QString("%1: noise calls' sigma rel error %2")
                             .arg(QString::fromStdString(key))
                             .arg(noise->worstCallError(), 0, 'g', 3);
    QVERIFY2(noise->worstCallError() < 1e-5, "a noise draw was requested for other sigmas than the reference's");

    const size_t steps = c["n_callback_steps"];
    QCOMPARE(recorder.x.size(), steps);
    for (size_t i = 0; i < steps; ++i) {
      const double expected = c["callback_sigma_hat"][i];
      QVERIFY2(std::fabs(recorder.sigma_hat[i] - expected) <= 1e-6 * expected, "callback sigma_hat differs");
    }
    GESSO_COMPARE_TENSORS(QString::fromStdString(key + " x_out"), x_out, gesso::test::goldenTensor(*file, key + "/x_out"), 1e-5,
                          0);
    const auto vs_f64 = gesso::test::compareTensors(QString::fromStdString(key + " x_out vs x_out_f64"), x_out,
                                                    gesso::test::goldenTensor(*file, key + "/x_out_f64"), 1e-5, 0);
    QVERIFY(vs_f64.ok);
    // Trajectories reach |x| ~ 45 at the first steps: float32 rounding there needs a relative term.
    GESSO_COMPARE_TENSORS(QString::fromStdString(key + " traj_x"), at::stack(recorder.x),
                          gesso::test::goldenTensor(*file, key + "/traj_x"), 1e-5, 1e-6);
    GESSO_COMPARE_TENSORS(QString::fromStdString(key + " traj_denoised"), at::stack(recorder.denoised),
                          gesso::test::goldenTensor(*file, key + "/traj_denoised"), 1e-5, 1e-6);
  }

  // k-diffusion integrates the Lagrange basis with scipy quad; ours uses Gauss-Legendre (exact for these degrees).
  void lmsCoefficientsMatchQuad() {
    GESSO_REQUIRE_SHARED();
    const nlohmann::json spec = loadSamplersJson();
    const auto file = gesso::test::openGolden("samplers.safetensors");
    double worst = 0;
    int checked = 0;
    for (const auto& c : spec["cases"]) {
      if (!c.contains("lms_coeffs")) continue;
      const at::Tensor sigmas =
          gesso::test::goldenTensor(*file, "schedule/" + c["schedule"].get<std::string>() + "/sigmas").to(at::kDouble);
      const std::vector<double> t(sigmas.data_ptr<double>(), sigmas.data_ptr<double>() + sigmas.numel());
      const int order = c["kwargs"]["order"];
      for (size_t i = 0; i < c["lms_coeffs"].size(); ++i) {
        const auto& row = c["lms_coeffs"][i];
        const int current = std::min<int>(static_cast<int>(i) + 1, order);
        QCOMPARE(static_cast<int>(row.size()), current);
        for (int j = 0; j < current; ++j) {
          const double expected = row[j];
          const double actual = linearMultistepCoefficient(current, t, static_cast<int>(i), j);
          worst = std::max(worst, std::fabs(actual - expected) / std::max(1e-12, std::fabs(expected)));
          ++checked;
        }
      }
    }
    qInfo() << "lms coefficients checked:" << checked << "max relative diff:" << worst;
    QVERIFY(checked > 0);
    QVERIFY2(worst < 1e-9, "lms coefficients differ from scipy quad");
  }

  // The guidance goldens' sampler loops, with the network replaced by the recorded CFG denoised estimates (one per
  // step for these samplers). Both end with a step to sigma 0 that lands on the last estimate, so this checks the
  // plumbing (calls, noise draws, x_out) on real-scale values (~127) more than the arithmetic the cases above cover.
  void replaysGuidanceRuns_data() {
    QTest::addColumn<QString>("name");
    QTest::newRow("cfg_dpmpp_2m") << "dpmpp_2m";
    QTest::newRow("cfg_euler_ancestral") << "euler_ancestral";
  }

  void replaysGuidanceRuns() {
    GESSO_REQUIRE_SHARED();
    QFETCH(QString, name);
    const std::string key = QTest::currentDataTag();
    const auto file = gesso::test::openGolden("denoise_tiny.safetensors");
    const at::Tensor recorded = gesso::test::goldenTensor(*file, key + "/traj_denoised");
    int64_t calls = 0;
    SamplerContext context;
    context.denoiser = [&](const at::Tensor&, const at::Tensor&) { return recorded[calls++]; };
    auto noise = std::make_shared<ReplayNoise>(
        name == "euler_ancestral" ? gesso::test::goldenTensor(*file, key + "/noise") : at::empty({0, 1, 4, 16, 16}),
        std::vector<std::pair<double, double>>{});
    context.noise_sampler = noise;
    const at::Tensor x_out = sample(name.toStdString(), context, gesso::test::goldenTensor(*file, "cfg/x_init"),
                                    gesso::test::goldenTensor(*file, "cfg/sigmas"));
    QCOMPARE(calls, recorded.size(0));
    QCOMPARE(noise->count(), name == "euler_ancestral" ? int64_t(3) : int64_t(0));
    GESSO_COMPARE_TENSORS(QString::fromStdString(key + " x_out"), x_out, gesso::test::goldenTensor(*file, key + "/x_out"), 1e-4,
                          1e-4);
  }

  // No k-diffusion golden exists for UniPC: the sigma-space port must equal the VP-space statement above.
  void uniPcMatchesItsVpStatement() {
    const at::Tensor x = at::randn({2, 4, 4, 4}, at::TensorOptions().dtype(at::kDouble)) * 14.6;
    const DenoiseFunction gmm = gmmDenoiser({0.3, 0.7}, {-1.0, 0.8}, {0.3, 0.5});
    for (int steps : {1, 2, 3, 4, 10, 25}) {
      const at::Tensor sigmas = sdKarras(steps).to(at::kDouble);
      const std::vector<double> list(sigmas.data_ptr<double>(), sigmas.data_ptr<double>() + sigmas.numel());
      for (bool bh2 : {false, true}) {
        SamplerContext context;
        context.denoiser = gmm;
        const at::Tensor ours = sample(bh2 ? "uni_pc_bh2" : "uni_pc", context, x, sigmas);
        GESSO_COMPARE_TENSORS(QString("uni_pc%1 %2 steps").arg(bh2 ? "_bh2" : "").arg(steps), ours,
                              referenceUniPc(gmm, x, list, bh2), 1e-10, 1e-10);
      }
    }
  }

  // DDIM with eta = 0 is the Euler step written as x' = D + eps * sigma_next (same math, different rounding).
  void ddimEtaZeroIsEuler() {
    const at::Tensor x = at::randn({2, 4, 4, 4}, at::TensorOptions().dtype(at::kDouble)) * 14.6;
    const at::Tensor sigmas = sdKarras(12).to(at::kDouble);
    const at::Tensor euler = runSampler("euler", x, sigmas, nullptr);
    const at::Tensor ddim = runSampler("ddim", x, sigmas, nullptr);
    GESSO_COMPARE_TENSORS("ddim(eta 0) vs euler", ddim, euler, 1e-12, 1e-12);
  }

  // With eta, DDIM's sigma_t (Song et al. eq. 16) is k-diffusion's ancestral split: DDIM(eta) = Euler ancestral(eta),
  // and DDPM's posterior step is DDIM with eta = 1 (same noise draws).
  void ddimAndDdpmAreAncestralEuler() {
    const at::Tensor x = at::randn({2, 4, 4, 4}, at::TensorOptions().dtype(at::kDouble)) * 14.6;
    const at::Tensor sigmas = sdKarras(10).to(at::kDouble);
    const at::Tensor draws = at::randn({9, 2, 4, 4, 4}, at::TensorOptions().dtype(at::kDouble));
    for (double eta : {0.5, 1.0}) {
      SamplerOptions options;
      options.eta = eta;
      const at::Tensor ancestral = runSampler("euler_ancestral", x, sigmas, replay(draws), options);
      const at::Tensor ddim = runSampler("ddim", x, sigmas, replay(draws), options);
      GESSO_COMPARE_TENSORS(QString("ddim(eta %1) vs euler_ancestral").arg(eta), ddim, ancestral, 1e-10, 1e-10);
    }
    const at::Tensor ancestral = runSampler("euler_ancestral", x, sigmas, replay(draws));
    const at::Tensor ddpm = runSampler("ddpm", x, sigmas, replay(draws));
    GESSO_COMPARE_TENSORS("ddpm vs euler_ancestral(eta 1)", ddpm, ancestral, 1e-10, 1e-10);
  }

  // LCM jumps to D and re-noises with sigma_next * z: every step's x is D(previous) + sigma * z.
  void lcmRenoisesTheDenoisedEstimate() {
    const at::Tensor x = at::randn({1, 4, 4, 4}, at::TensorOptions().dtype(at::kDouble)) * 14.6;
    const at::Tensor sigmas = sdKarras(4).to(at::kDouble);
    const at::Tensor draws = at::randn({3, 1, 4, 4, 4}, at::TensorOptions().dtype(at::kDouble));
    Recorder recorder;
    const at::Tensor out = runSampler("lcm", x, sigmas, replay(draws), {}, &recorder);
    QCOMPARE(recorder.x.size(), size_t(4));
    for (int i = 1; i < 4; ++i) {
      const at::Tensor expected = recorder.denoised[i - 1] + draws[i - 1] * sigmas[i].item<double>();
      GESSO_COMPARE_TENSORS(QString("lcm step %1").arg(i), recorder.x[i], expected, 1e-12, 0);
    }
    GESSO_COMPARE_TENSORS("lcm output", out, recorder.denoised.back(), 0, 0);
  }

  // The default noise source is LibTorch's CPU generator seeded per request, float32 randn of the latent's shape.
  void seededNoiseIsLibTorchRandn() {
    SeededNoiseSampler noise(1234, {2, 4, 8, 8}, at::TensorOptions().dtype(at::kFloat));
    at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(1234);
    const at::Tensor first = at::randn({2, 4, 8, 8}, generator, at::TensorOptions().dtype(at::kFloat));
    const at::Tensor second = at::randn({2, 4, 8, 8}, generator, at::TensorOptions().dtype(at::kFloat));
    QVERIFY(at::equal(noise.next(1, 0.5), first));
    QVERIFY(at::equal(noise.next(0.5, 0.2), second));
    // Not the global RNG: drawing from it in between changes nothing.
    SeededNoiseSampler again(1234, {2, 4, 8, 8}, at::TensorOptions().dtype(at::kFloat));
    at::randn({10});
    QVERIFY(at::equal(again.next(1, 0.5), first));
  }

  void stochasticSamplersAreDeterministicPerSeed_data() {
    QTest::addColumn<QString>("name");
    for (const SamplerEntry& entry : samplerTable()) QTest::newRow(entry.name) << QString(entry.name);
  }

  void stochasticSamplersAreDeterministicPerSeed() {
    QFETCH(QString, name);
    const at::Tensor x = at::randn({1, 4, 4, 4}) * 14.6;
    const at::Tensor sigmas = sdKarras(6);
    const auto run = [&](uint64_t seed) {
      SamplerContext context;
      context.denoiser = simpleGauss(0.25, 0.5);
      context.noise_seed = seed;
      return sample(name.toStdString(), context, x, sigmas);
    };
    const at::Tensor a = run(7), b = run(7), c = run(8);
    QVERIFY(at::isfinite(a).all().item<bool>());
    QVERIFY2(at::equal(a, b), "the same seed gave a different result");
    const bool differs = !at::equal(a, c);
    QCOMPARE(differs, findSampler(name.toStdString()).noise == NoiseUse::Stochastic);
  }

  // One callback per step (indices 0..n-1, x at the step's sigma) and the expected number of network evaluations.
  void everySamplerReportsEachStepOnce_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<int>("evaluations");  // for 8 steps ending in 0
    const QStringList two_stage{"heun", "dpm_2", "dpm_2_ancestral", "dpmpp_2s_ancestral", "dpmpp_sde"};
    for (const SamplerEntry& entry : samplerTable())
      QTest::newRow(entry.name) << QString(entry.name) << (two_stage.contains(entry.name) ? 2 * 8 - 1 : 8);
  }

  void everySamplerReportsEachStepOnce() {
    QFETCH(QString, name);
    QFETCH(int, evaluations);
    const at::Tensor sigmas = sdKarras(8);
    int calls = 0;
    std::vector<int> steps;
    std::vector<double> reported_sigmas;
    SamplerContext context;
    context.denoiser = [&](const at::Tensor& x, const at::Tensor& sigma) {
      ++calls;
      return simpleGauss(0.25, 0.5)(x, sigma);
    };
    context.on_step = [&](const StepInfo& info) {
      steps.push_back(info.step);
      reported_sigmas.push_back(info.sigma);
      QCOMPARE(info.total_steps, 8);
    };
    sample(name.toStdString(), context, at::randn({1, 4, 4, 4}) * 14.6, sigmas);
    QCOMPARE(calls, evaluations);
    QCOMPARE(static_cast<int>(steps.size()), 8);
    for (int i = 0; i < 8; ++i) {
      QCOMPARE(steps[i], i);
      QCOMPARE(reported_sigmas[i], sigmas[i].item<double>());
    }
  }

  // Churn (s_churn > 0) raises sigma with fresh noise from the context's noise source, one draw per step.
  void churnDrawsFromTheNoiseSource() {
    const at::Tensor x = at::randn({1, 4, 4, 4}) * 14.6;
    const at::Tensor sigmas = sdKarras(5);
    SamplerOptions options;
    options.s_churn = 1.0;
    for (const char* name : {"euler", "heun", "dpm_2"}) {
      auto noise = std::make_shared<ReplayNoise>(at::randn({5, 1, 4, 4, 4}), std::vector<std::pair<double, double>>{});
      Recorder recorder;
      runSampler(name, x, sigmas, noise, options, &recorder);
      QCOMPARE(noise->count(), int64_t(5));
      const double gamma = std::min(1.0 / 5, std::sqrt(2.0) - 1);
      QVERIFY(std::fabs(recorder.sigma_hat[0] - sigmas[0].item<double>() * (1 + gamma)) < 1e-5);
    }
  }

  void cancellationStopsBeforeTheNextCall() {
    gesso::CancelToken token;
    int calls = 0;
    SamplerContext context;
    context.denoiser = [&](const at::Tensor& x, const at::Tensor& sigma) {
      if (++calls == 3) token.cancel();
      return simpleGauss(0, 0.5)(x, sigma);
    };
    context.cancel = &token;
    try {
      sample("heun", context, at::randn({1, 4, 4, 4}), sdKarras(10));
      QFAIL("a cancelled run finished");
    } catch (const GessoError& error) {
      QCOMPARE(error.error().code, ErrorCode::Cancelled);
    }
    QCOMPARE(calls, 3);
  }

  void rejectsBadInput_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<QVector<double>>("sigmas");
    QTest::addColumn<QString>("expected");
    QTest::newRow("unknown sampler") << "euler_b" << QVector<double>{1, 0} << "known: euler, euler_ancestral";
    QTest::newRow("increasing") << "euler" << QVector<double>{1, 2, 0} << "must strictly decrease";
    QTest::newRow("repeated") << "dpmpp_2m" << QVector<double>{2, 1, 1, 0} << "must strictly decrease";
    QTest::newRow("zero in the middle") << "euler" << QVector<double>{2, 0, 0} << "only the last may be 0";
    QTest::newRow("not finite") << "euler" << QVector<double>{INFINITY, 0} << "not finite";
    QTest::newRow("negative") << "euler" << QVector<double>{1, -1} << "must be positive";
  }

  void rejectsBadInput() {
    QFETCH(QString, name);
    QFETCH(QVector<double>, sigmas);
    QFETCH(QString, expected);
    SamplerContext context;
    context.denoiser = simpleGauss(0, 0.5);
    const std::vector<double> values(sigmas.begin(), sigmas.end());
    try {
      sample(name.toStdString(), context, at::randn({1, 4, 2, 2}), at::tensor(values));
      QFAIL("bad input was accepted");
    } catch (const GessoError& error) {
      const QString message = QString::fromStdString(error.error().detail);
      qInfo().noquote() << "error:" << message;
      QCOMPARE(error.error().code, ErrorCode::InvalidArgument);
      QVERIFY2(message.contains(expected), qPrintable(message));
    }
  }

  void rejectsDenoiserOfWrongShape() {
    SamplerContext context;
    context.denoiser = [](const at::Tensor& x, const at::Tensor&) { return x.slice(1, 0, 1); };
    try {
      sample("euler", context, at::randn({1, 4, 2, 2}), sdKarras(3));
      QFAIL("a wrong denoiser shape was accepted");
    } catch (const GessoError& error) {
      QCOMPARE(error.error().code, ErrorCode::ShapeMismatch);
    }
  }

  void registryListsComfyNames() {
    const std::vector<std::string> names = samplerNames();
    for (const char* required :
         {"euler", "euler_ancestral", "heun", "dpm_2", "dpm_2_ancestral", "lms", "dpmpp_2s_ancestral", "dpmpp_sde", "dpmpp_2m",
          "dpmpp_2m_sde", "dpmpp_3m_sde", "ddim", "ddpm", "uni_pc", "lcm", "ipndm"})
      QVERIFY2(std::find(names.begin(), names.end(), required) != names.end(), required);
  }
};

QTEST_GUILESS_MAIN(SamplersTest)
#include "test_samplers.moc"
