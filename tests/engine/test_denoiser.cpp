// Denoiser, scalings and classifier-free guidance against k-diffusion and sgm on the tiny UNets
// (../shared/golden/denoise_tiny.*), plus formula checks of the scalings, the training targets and CFG rescale.
#include "gesso/diffusion/denoiser.h"
#include "gesso/diffusion/guidance.h"
#include "gesso/diffusion/scalings.h"

#include "gesso/error.h"
#include "gesso/io/safetensors.h"
#include "gesso/models/unet.h"
#include "golden.h"
#include "unet_config_json.h"

#include <ATen/ATen.h>
#include <QtTest>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <functional>
#include <set>
#include <vector>

using gesso::diffusion::Conditioning;
using gesso::diffusion::Denoiser;
using gesso::diffusion::DenoiserOptions;
using gesso::diffusion::GuidanceOptions;
using gesso::diffusion::GuidedDenoiser;
using gesso::diffusion::NoiseCondition;
using gesso::diffusion::Parameterization;
using gesso::test::goldenTensor;

namespace {

const std::string kPrefix = "model.diffusion_model.";

// The tiny golden UNet `variant` with its stored weights (every tensor must fill exactly one parameter).
gesso::models::UNet loadGoldenUNet(const std::string& variant) {
  std::ifstream in(gesso::test::goldenPath(variant + ".json"));
  gesso::models::UNet unet(gesso::test::unetConfigFromKwargs(nlohmann::json::parse(in).at("config")),
                           at::TensorOptions().dtype(at::kFloat));
  auto file = gesso::test::openGolden(variant + ".safetensors");
  torch::NoGradGuard no_grad;
  auto parameters = unet->named_parameters();
  std::set<std::string> unfilled;
  for (const auto& item : parameters) unfilled.insert(item.key());
  for (const auto& info : file->tensors()) {
    if (info.name.rfind(kPrefix, 0) != 0) continue;
    const std::string name = info.name.substr(kPrefix.size());
    auto* parameter = parameters.find(name);
    if (!parameter) throw std::runtime_error(variant + ": no parameter for " + name);
    parameter->copy_(file->tensor(info.name));
    unfilled.erase(name);
  }
  if (!unfilled.empty()) throw std::runtime_error(variant + ": no tensor for " + *unfilled.begin());
  unet->eval();
  return unet;
}

using Denoise = std::function<at::Tensor(const at::Tensor& x, const at::Tensor& sigma)>;

// Test-only samplers with k-diffusion's semantics (the real ones belong to diffusion/samplers). Each returns the
// final x and appends every step's denoised estimate to `trajectory`.

// k-diffusion sample_euler_ancestral (eta 1, s_noise 1), replaying the stored noise draws in order.
at::Tensor eulerAncestral(const Denoise& denoise, at::Tensor x, const at::Tensor& sigmas, const at::Tensor& noise,
                          std::vector<at::Tensor>& trajectory) {
  const int64_t steps = sigmas.size(0) - 1;
  int64_t draw = 0;
  for (int64_t i = 0; i < steps; ++i) {
    const double sigma = sigmas[i].item<double>(), sigma_next = sigmas[i + 1].item<double>();
    const at::Tensor denoised = denoise(x, sigmas[i] * at::ones({x.size(0)}));
    trajectory.push_back(denoised);
    const double sigma_up = std::min(
        sigma_next, std::sqrt(sigma_next * sigma_next * (sigma * sigma - sigma_next * sigma_next) / (sigma * sigma)));
    const double sigma_down = std::sqrt(sigma_next * sigma_next - sigma_up * sigma_up);
    const at::Tensor d = (x - denoised) / sigma;  // to_d
    x = x + d * (sigma_down - sigma);
    if (sigma_next > 0) x = x + noise[draw++] * sigma_up;
  }
  return x;
}

// k-diffusion sample_dpmpp_2m (DPM-Solver++(2M), Lu et al. 2022) in t = −ln σ.
at::Tensor dpmpp2m(const Denoise& denoise, at::Tensor x, const at::Tensor& sigmas,
                   std::vector<at::Tensor>& trajectory) {
  const int64_t steps = sigmas.size(0) - 1;
  at::Tensor old_denoised;
  for (int64_t i = 0; i < steps; ++i) {
    const double sigma = sigmas[i].item<double>(), sigma_next = sigmas[i + 1].item<double>();
    const at::Tensor denoised = denoise(x, sigmas[i] * at::ones({x.size(0)}));
    trajectory.push_back(denoised);
    const double t = -std::log(sigma), t_next = -std::log(sigma_next), h = t_next - t;
    at::Tensor estimate = denoised;
    if (old_denoised.defined() && sigma_next > 0) {
      const double r = (t + std::log(sigmas[i - 1].item<double>())) / h;  // h_last / h
      estimate = denoised * (1 + 1 / (2 * r)) - old_denoised * (1 / (2 * r));
    }
    x = x * (sigma_next / sigma) - estimate * std::expm1(-h);
    old_denoised = denoised;
  }
  return x;
}

// A fake network that records what it was called with and returns a fixed output.
struct RecordingNetwork {
  std::shared_ptr<std::vector<at::Tensor>> inputs = std::make_shared<std::vector<at::Tensor>>();
  std::shared_ptr<std::vector<at::Tensor>> timesteps = std::make_shared<std::vector<at::Tensor>>();
  std::shared_ptr<std::vector<Conditioning>> conditionings = std::make_shared<std::vector<Conditioning>>();
  std::function<at::Tensor(const at::Tensor&)> output;

  at::Tensor operator()(const at::Tensor& x_in, const at::Tensor& t, const Conditioning& c) const {
    inputs->push_back(x_in);
    timesteps->push_back(t);
    conditionings->push_back(c);
    return output(x_in);
  }
};

}  // namespace

class DenoiserTest : public QObject {
  Q_OBJECT

 private slots:
  // The c_skip, c_out, c_in of each parameterization written out in double precision.
  void scalingFormulas_data() {
    QTest::addColumn<double>("sigma");
    for (double sigma : {0.0, 0.0292, 0.5, 1.0, 3.7, 14.6146, 80.0}) {
      QTest::newRow(qPrintable(QString("sigma=%1").arg(sigma))) << sigma;
    }
  }

  void scalingFormulas() {
    QFETCH(double, sigma);
    const at::Tensor s = at::full({1}, sigma, at::kDouble);
    auto check = [&](const char* name, const at::Tensor& actual, double expected) {
      const double value = actual.item<double>();
      QVERIFY2(std::abs(value - expected) <= 1e-12 * std::max(1.0, std::abs(expected)),
               qPrintable(QString("%1 at sigma %2: %3, expected %4").arg(name).arg(sigma).arg(value).arg(expected)));
    };
    const double root = std::sqrt(sigma * sigma + 1);
    auto eps = gesso::diffusion::computeScalings(Parameterization::Epsilon, s, 1.0);
    check("eps c_skip", eps.c_skip, 1.0);
    check("eps c_out", eps.c_out, -sigma);
    check("eps c_in", eps.c_in, 1 / root);
    auto v = gesso::diffusion::computeScalings(Parameterization::Velocity, s, 1.0);
    check("v c_skip", v.c_skip, 1 / (sigma * sigma + 1));
    check("v c_out", v.c_out, -sigma / root);
    check("v c_in", v.c_in, 1 / root);
    const double edm_root = std::sqrt(sigma * sigma + 0.25);
    auto edm = gesso::diffusion::computeScalings(Parameterization::Edm, s, 0.5);
    check("edm c_skip", edm.c_skip, 0.25 / (sigma * sigma + 0.25));
    check("edm c_out", edm.c_out, sigma * 0.5 / edm_root);
    check("edm c_in", edm.c_in, 1 / edm_root);
    if (sigma > 0) check("edm c_noise", gesso::diffusion::edmNoiseCondition(s), 0.25 * std::log(sigma));
    QCOMPARE(eps.c_in.scalar_type(), at::kDouble);
  }

  // The private SD schedule and k-diffusion's sigma_to_t (interpolated and nearest-index) on the samplers goldens.
  void sigmaToTimestep_data() {
    QTest::addColumn<QString>("schedule");
    for (const char* name : {"karras10", "normal10", "sgm_legacy10"}) QTest::newRow(name) << QString(name);
  }

  void sigmaToTimestep() {
    GESSO_REQUIRE_SHARED();
    QFETCH(QString, schedule);
    auto golden = gesso::test::openGolden("samplers.safetensors");
    const Denoiser denoiser([](const at::Tensor& x, const at::Tensor&, const Conditioning&) { return x; });
    const std::string s = "schedule/" + schedule.toStdString() + "/";
    const at::Tensor sigmas = goldenTensor(*golden, s + "sigmas").narrow(0, 0, 10);  // the last one is 0
    GESSO_COMPARE_TENSORS(schedule + " t(sigma)", denoiser.sigmaToTimestep(sigmas),
                          goldenTensor(*golden, s + "t_from_sigma"), 1e-4, 1e-6);
    const at::Tensor nearest = denoiser.nearestIndexLogSigma(sigmas);
    QCOMPARE(nearest.scalar_type(), at::kLong);
    QVERIFY(at::equal(nearest, goldenTensor(*golden, s + "t_from_sigma_quantized")));
    // sgm rounds (1 − ᾱ)/ᾱ to float32, k-diffusion ᾱ itself, which costs 1 − ᾱ digits at the smallest sigmas
    // (1.3e-5 relative at σ_0).
    GESSO_COMPARE_TENSORS("SD sigmas vs k-diffusion's", denoiser.trainingSigmas(),
                          goldenTensor(*golden, "schedule/sd_sigmas_1000_f32"), 0, 2e-5);
  }

  void kdiffusionWrappers_data() {
    QTest::addColumn<QString>("caseName");
    QTest::addColumn<QString>("unet");
    QTest::addColumn<int>("parameterization");
    QTest::newRow("kdiff_eps") << "kdiff_eps"
                               << "unet_tiny" << int(Parameterization::Epsilon);
    QTest::newRow("kdiff_v") << "kdiff_v"
                             << "unet_tiny_linear" << int(Parameterization::Velocity);
  }

  void kdiffusionWrappers() {
    GESSO_REQUIRE_SHARED();
    QFETCH(QString, caseName);
    QFETCH(QString, unet);
    QFETCH(int, parameterization);
    auto golden = gesso::test::openGolden("denoise_tiny.safetensors");
    const std::string c = caseName.toStdString() + "/";
    DenoiserOptions options;
    options.parameterization = Parameterization(parameterization);
    const Denoiser denoiser(gesso::diffusion::unetNetwork(loadGoldenUNet(unet.toStdString())), options);
    const at::Tensor sigma = goldenTensor(*golden, c + "sigma");
    GESSO_COMPARE_TENSORS(caseName + " t", denoiser.noiseCondition(sigma), goldenTensor(*golden, c + "t"), 1e-4, 1e-6);
    torch::NoGradGuard no_grad;
    const at::Tensor denoised =
        denoiser(goldenTensor(*golden, c + "x"), sigma, Conditioning{goldenTensor(*golden, c + "context"), {}, {}});
    GESSO_COMPARE_TENSORS(caseName + " denoised", denoised, goldenTensor(*golden, c + "denoised"), 1e-4, 1e-4);
  }

  // sgm DiscreteDenoiser(EpsScaling, quantized) + OpenAIWrapper over the SDXL-style UNet.
  void sgmDiscreteDenoiser() {
    GESSO_REQUIRE_SHARED();
    auto golden = gesso::test::openGolden("denoise_tiny.safetensors");
    const Denoiser denoiser(gesso::diffusion::unetNetwork(loadGoldenUNet("unet_tiny_xl")),
                            DenoiserOptions{Parameterization::Epsilon, NoiseCondition::QuantizedSigma, 1.0});
    GESSO_COMPARE_TENSORS("sgm_eps_xl denoiser_sigmas", denoiser.trainingSigmas(),
                          goldenTensor(*golden, "sgm_eps_xl/denoiser_sigmas"), 0, 0);
    const at::Tensor sigma = goldenTensor(*golden, "sgm_eps_xl/sigma");
    const at::Tensor index = denoiser.noiseCondition(denoiser.effectiveSigma(sigma));
    QCOMPARE(index.scalar_type(), at::kLong);
    qInfo() << "sgm_eps_xl idx" << index[0].item<int64_t>() << index[1].item<int64_t>();
    QVERIFY(at::equal(index, goldenTensor(*golden, "sgm_eps_xl/idx")));
    GESSO_COMPARE_TENSORS("sgm_eps_xl sigma_quantized", denoiser.effectiveSigma(sigma),
                          goldenTensor(*golden, "sgm_eps_xl/sigma_quantized"), 0, 0);
    torch::NoGradGuard no_grad;
    const at::Tensor denoised = denoiser(
        goldenTensor(*golden, "sgm_eps_xl/x"), sigma,
        Conditioning{goldenTensor(*golden, "sgm_eps_xl/crossattn"), goldenTensor(*golden, "sgm_eps_xl/vector"), {}});
    GESSO_COMPARE_TENSORS("sgm_eps_xl denoised", denoised, goldenTensor(*golden, "sgm_eps_xl/denoised"), 1e-4, 1e-4);
  }

  // Classifier-free guidance (scale 7.5, one batched call) driving 4 Karras steps of two k-diffusion samplers.
  void cfgSampling_data() {
    QTest::addColumn<QString>("caseName");
    QTest::newRow("cfg_dpmpp_2m") << "cfg_dpmpp_2m";
    QTest::newRow("cfg_euler_ancestral") << "cfg_euler_ancestral";
  }

  void cfgSampling() {
    GESSO_REQUIRE_SHARED();
    QFETCH(QString, caseName);
    auto golden = gesso::test::openGolden("denoise_tiny.safetensors");
    const std::string c = caseName.toStdString() + "/";
    int calls = 0;
    gesso::diffusion::NetworkFunction unet = gesso::diffusion::unetNetwork(loadGoldenUNet("unet_tiny"));
    auto counted = [&](const at::Tensor& x_in, const at::Tensor& t, const Conditioning& cond) {
      ++calls;
      if (x_in.size(0) != 2) throw std::runtime_error("guidance did not batch cond and uncond");
      return unet(x_in, t, cond);
    };
    const GuidedDenoiser guided(Denoiser(counted), Conditioning{goldenTensor(*golden, "cfg/cond"), {}, {}},
                                Conditioning{goldenTensor(*golden, "cfg/uncond"), {}, {}}, GuidanceOptions{7.5, 0.0});
    const at::Tensor sigmas = goldenTensor(*golden, "cfg/sigmas");
    const at::Tensor x_init = goldenTensor(*golden, "cfg/x_init");
    torch::NoGradGuard no_grad;
    std::vector<at::Tensor> trajectory;
    const at::Tensor x_out =
        caseName == "cfg_dpmpp_2m"
            ? dpmpp2m(guided, x_init, sigmas, trajectory)
            : eulerAncestral(guided, x_init, sigmas, goldenTensor(*golden, c + "noise"), trajectory);
    QCOMPARE(calls, 4);
    const at::Tensor expected_trajectory = goldenTensor(*golden, c + "traj_denoised");
    QCOMPARE(int64_t(trajectory.size()), expected_trajectory.size(0));
    for (size_t i = 0; i < trajectory.size(); ++i) {
      const at::Tensor expected = expected_trajectory[int64_t(i)];
      GESSO_COMPARE_TENSORS(caseName + QString(" denoised step %1").arg(i), trajectory[i], expected, 1e-3, 1e-3);
    }
    const at::Tensor expected_out = goldenTensor(*golden, c + "x_out");
    GESSO_COMPARE_TENSORS(caseName + " x_out", x_out, expected_out, 1e-3, 1e-3);
  }

  // For each parameterization and noise condition: the network sees c_in·(x0 + σ·noise) and c_noise(σ), the target
  // has its closed form, and a network that returns the target exactly makes the denoiser return x0.
  void trainingTargets_data() {
    QTest::addColumn<int>("parameterization");
    QTest::addColumn<int>("noiseCondition");
    QTest::addColumn<double>("sigmaData");
    QTest::newRow("eps") << int(Parameterization::Epsilon) << int(NoiseCondition::InterpolatedTimestep) << 1.0;
    QTest::newRow("eps nearest") << int(Parameterization::Epsilon) << int(NoiseCondition::NearestTimestep) << 1.0;
    QTest::newRow("eps quantized") << int(Parameterization::Epsilon) << int(NoiseCondition::QuantizedSigma) << 1.0;
    QTest::newRow("v") << int(Parameterization::Velocity) << int(NoiseCondition::InterpolatedTimestep) << 1.0;
    QTest::newRow("edm") << int(Parameterization::Edm) << int(NoiseCondition::LogSigma) << 0.5;
  }

  void trainingTargets() {
    QFETCH(int, parameterization);
    QFETCH(int, noiseCondition);
    QFETCH(double, sigmaData);
    const DenoiserOptions options{Parameterization(parameterization), NoiseCondition(noiseCondition), sigmaData};
    at::manual_seed(3);
    const at::Tensor x0 = at::randn({3, 2, 4, 4}, at::kDouble), noise = at::randn({3, 2, 4, 4}, at::kDouble);
    const at::Tensor sigma = at::tensor({0.05, 1.3, 12.0}, at::kDouble);

    RecordingNetwork network;
    at::Tensor target;
    network.output = [&](const at::Tensor&) { return target; };
    const Denoiser denoiser(std::ref(network), options);
    const auto example = denoiser.trainingExample(x0, noise, sigma);
    target = example.target;
    const at::Tensor s = denoiser.effectiveSigma(sigma).view({3, 1, 1, 1});  // [B, 1, 1, 1]
    const double tolerance = 1e-12;
    GESSO_COMPARE_TENSORS("noised", example.noised, x0 + noise * s, tolerance, tolerance);
    GESSO_COMPARE_TENSORS("model input", example.model_input, (x0 + noise * s) / (s * s + sigmaData * sigmaData).sqrt(),
                          tolerance, tolerance);
    if (Parameterization(parameterization) == Parameterization::Epsilon) {
      GESSO_COMPARE_TENSORS("eps target", example.target, noise, 0, 0);
    } else if (Parameterization(parameterization) == Parameterization::Velocity) {
      // v = α·ε − σ_t·x0 with α = 1/√(σ²+1), σ_t = σ/√(σ²+1).
      GESSO_COMPARE_TENSORS("v target", example.target, (noise - s * x0) / (s * s + 1).sqrt(), 1e-10, 1e-10);
    } else {
      // EDM's F target: (x0 − c_skip·y)/c_out.
      const at::Tensor y = x0 + noise * s;
      const at::Tensor expected = (x0 - y * 0.25 / (s * s + 0.25)) / (s * 0.5 / (s * s + 0.25).sqrt());
      GESSO_COMPARE_TENSORS("edm target", example.target, expected, 1e-10, 1e-10);
    }
    // The network receives exactly the training input and timestep, and returning the target recovers x0.
    const at::Tensor denoised = denoiser(example.noised, sigma, Conditioning{});
    GESSO_COMPARE_TENSORS("network input", network.inputs->back(), example.model_input, tolerance, tolerance);
    QVERIFY(at::equal(network.timesteps->back(), example.timestep));
    GESSO_COMPARE_TENSORS("perfect network denoises to x0", denoised, x0, 1e-10, 1e-10);
    const at::Tensor loss = denoiser.loss(x0, noise, sigma, Conditioning{});
    QCOMPARE(loss.sizes(), at::IntArrayRef({3}));
    QVERIFY(loss.abs().max().item<double>() < 1e-20);
  }

  // Bad input is refused with a GessoError naming what was wrong, never a crash.
  void denoiserErrors() {
    RecordingNetwork network;
    network.output = [](const at::Tensor& x_in) { return x_in; };
    const Denoiser denoiser(std::ref(network));
    const at::Tensor x = at::zeros({2, 4, 2, 2});
    QVERIFY_EXCEPTION_THROWN(denoiser(x, at::ones({3}), Conditioning{}), gesso::GessoError);
    QVERIFY_EXCEPTION_THROWN(denoiser(x, at::full({2}, -1.0), Conditioning{}), gesso::GessoError);
    QVERIFY_EXCEPTION_THROWN(denoiser(x, at::full({2}, NAN), Conditioning{}), gesso::GessoError);
    QVERIFY_EXCEPTION_THROWN(denoiser(at::zeros({4}), at::ones({4}), Conditioning{}), gesso::GessoError);
    QCOMPARE(denoiser(x, at::ones({1}), Conditioning{}).sizes(), x.sizes());  // [1] and scalars broadcast
    QCOMPARE(network.timesteps->back().sizes(), at::IntArrayRef({2}));

    RecordingNetwork wrong;
    wrong.output = [](const at::Tensor& x_in) { return x_in.narrow(1, 0, 3); };
    QVERIFY_EXCEPTION_THROWN(Denoiser(std::ref(wrong))(x, at::ones({2}), Conditioning{}), gesso::GessoError);
    QVERIFY_EXCEPTION_THROWN(Denoiser(gesso::diffusion::NetworkFunction{}), gesso::GessoError);
    QVERIFY_EXCEPTION_THROWN(Denoiser(std::ref(network), {}, at::tensor({2.0f, 1.0f})), gesso::GessoError);
    QVERIFY_EXCEPTION_THROWN(Denoiser(std::ref(network), {}, at::ones({1})), gesso::GessoError);
    // Custom training sigmas: t(σ) interpolates in log σ between them.
    const Denoiser custom(std::ref(network), {}, at::tensor({1.0f, 4.0f, 16.0f}));
    GESSO_COMPARE_TENSORS("t between custom sigmas",
                          custom.sigmaToTimestep(at::tensor({1.0f, 2.0f, 8.0f, 16.0f, 100.0f, 0.5f})),
                          at::tensor({0.0f, 0.5f, 1.5f, 2.0f, 2.0f, 0.0f}), 1e-6, 0);
    QVERIFY(at::equal(custom.nearestIndexLogSigma(at::tensor({1.9f, 2.1f})), at::tensor({int64_t(0), int64_t(1)})));
    QVERIFY(at::equal(custom.nearestIndexSigma(at::tensor({2.4f, 2.6f})), at::tensor({int64_t(0), int64_t(1)})));
  }

  // CFG rescale with numbers worked out by hand: σ = 1, x = 2 everywhere, so v = (1 − x0)·√2.
  // cond x0 = [1, −1, 1, −1] -> v_c = √2·[0, 2, 0, 2] (std √2·√(4/3));
  // guided x0 = [3, −3, 3, −3] -> v_g = √2·[−2, 4, −2, 4] (std 3·√2·√(4/3)), so the std ratio is 1/3.
  // φ = 1: v = v_g/3 -> x0 = 1 − [−2/3, 4/3, −2/3, 4/3] = [5/3, −1/3, 5/3, −1/3].
  // φ = 0.5: v = v_g·(1/6 + 1/2) = √2·[−4/3, 8/3, −4/3, 8/3] -> x0 = [7/3, −5/3, 7/3, −5/3].
  void cfgRescaleByHand() {
    const at::Tensor x = at::full({1, 1, 2, 2}, 2.0, at::kDouble);
    const at::Tensor cond = at::tensor({1.0, -1.0, 1.0, -1.0}, at::kDouble).view({1, 1, 2, 2});
    const at::Tensor guided = cond * 3;
    const at::Tensor sigma = at::ones({1}, at::kDouble);
    auto expect = [](std::vector<double> values) { return at::tensor(values, at::kDouble).view({1, 1, 2, 2}); };
    GESSO_COMPARE_TENSORS("rescale 1", gesso::diffusion::rescaleGuidance(guided, cond, x, sigma, 1.0),
                          expect({5.0 / 3, -1.0 / 3, 5.0 / 3, -1.0 / 3}), 1e-12, 1e-12);
    GESSO_COMPARE_TENSORS("rescale 0.5", gesso::diffusion::rescaleGuidance(guided, cond, x, sigma, 0.5),
                          expect({7.0 / 3, -5.0 / 3, 7.0 / 3, -5.0 / 3}), 1e-12, 1e-12);
    GESSO_COMPARE_TENSORS("rescale 0", gesso::diffusion::rescaleGuidance(guided, cond, x, sigma, 0.0), guided, 0, 0);
    // At σ = 0 there is no v: the guided prediction is kept.
    GESSO_COMPARE_TENSORS("rescale at sigma 0",
                          gesso::diffusion::rescaleGuidance(guided, cond, x, at::zeros({1}, at::kDouble), 1.0), guided,
                          0, 0);
    // Per sample: a second sample whose guided prediction equals cond stays as it is.
    const at::Tensor two = gesso::diffusion::rescaleGuidance(at::cat({guided, cond}), at::cat({cond, cond}),
                                                             at::cat({x, x}), at::ones({2}, at::kDouble), 1.0);
    GESSO_COMPARE_TENSORS("rescale per sample", two[1], cond[0], 1e-12, 1e-12);
    QVERIFY_EXCEPTION_THROWN(gesso::diffusion::rescaleGuidance(guided, cond, x, at::ones({2}, at::kDouble), 1.0),
                             gesso::GessoError);
  }

  // The batched call: order [uncond, cond], batch-1 conditioning repeated, u + (c − u)·scale, and scale 1 skipping
  // the unconditional half.
  void guidanceBatching() {
    RecordingNetwork network;
    // Output = the mean of the context (so each half reveals which context it saw), broadcast over the latent.
    network.output = [&](const at::Tensor& x_in) {
      const at::Tensor& context = network.conditionings->back().crossattn;
      return context.mean({1, 2}).view({-1, 1, 1, 1}).expand(x_in.sizes()).clone();  // [B, C, H, W]
    };
    const Denoiser denoiser(std::ref(network));
    const Conditioning cond{at::full({1, 3, 8}, 2.0), {}, {}}, uncond{at::full({1, 3, 8}, 5.0), {}, {}};
    const at::Tensor x = at::zeros({2, 4, 2, 2});
    const at::Tensor sigma = at::full({2}, 1.0);
    const GuidedDenoiser guided(denoiser, cond, uncond, GuidanceOptions{4.0, 0.0});
    const at::Tensor out = guided(x, sigma);
    QCOMPARE(network.inputs->size(), size_t(1));
    QCOMPARE(network.inputs->back().size(0), int64_t(4));
    const at::Tensor context = network.conditionings->back().crossattn;
    QCOMPARE(context.sizes(), at::IntArrayRef({4, 3, 8}));
    QCOMPARE(context[0].mean().item<float>(), 5.0f);  // uncond first
    QCOMPARE(context[2].mean().item<float>(), 2.0f);
    // eps model, x = 0: denoised = −σ·eps; u = −5, c = −2 -> −5 + 3·4 = 7.
    GESSO_COMPARE_TENSORS("guided", out, at::full({2, 4, 2, 2}, 7.0), 1e-6, 0);

    const GuidedDenoiser plain(denoiser, cond, uncond, GuidanceOptions{1.0, 0.0});
    const at::Tensor conditional = plain(x, at::scalar_tensor(1.0));
    QCOMPARE(network.inputs->size(), size_t(2));
    QCOMPARE(network.inputs->back().size(0), int64_t(2));
    GESSO_COMPARE_TENSORS("scale 1 = conditional", conditional, at::full({2, 4, 2, 2}, -2.0), 1e-6, 0);

    // SDXL's vector conditioning is stacked in the same order, and inpainting channels are shared when the negative
    // side has none.
    const GuidedDenoiser with_vector(denoiser,
                                     Conditioning{cond.crossattn, at::ones({1, 5}), at::full({1, 1, 2, 2}, 3.0)},
                                     Conditioning{uncond.crossattn, at::zeros({1, 5}), {}}, GuidanceOptions{});
    with_vector(x, sigma);
    const Conditioning& seen = network.conditionings->back();
    QCOMPARE(seen.vector.sizes(), at::IntArrayRef({4, 5}));
    QCOMPARE(seen.vector.narrow(0, 0, 2).sum().item<float>(), 0.0f);
    QCOMPARE(seen.vector.narrow(0, 2, 2).sum().item<float>(), 10.0f);
    QCOMPARE(seen.concat.sizes(), at::IntArrayRef({4, 1, 2, 2}));
    QCOMPARE(seen.concat.min().item<float>(), 3.0f);

    // Different token counts are refused with a message instead of being padded here.
    const GuidedDenoiser mismatched(denoiser, cond, Conditioning{at::zeros({1, 6, 8}), {}, {}}, GuidanceOptions{});
    QVERIFY_EXCEPTION_THROWN(mismatched(x, sigma), gesso::GessoError);
    // A vector for one side only, and a sigma that fits no batch, are errors too.
    const GuidedDenoiser one_sided(denoiser, Conditioning{cond.crossattn, at::zeros({1, 4}), {}}, uncond,
                                   GuidanceOptions{});
    QVERIFY_EXCEPTION_THROWN(one_sided(x, sigma), gesso::GessoError);
    QVERIFY_EXCEPTION_THROWN(guided(x, at::ones({3})), gesso::GessoError);
    QVERIFY_EXCEPTION_THROWN(GuidedDenoiser(denoiser, cond, uncond, GuidanceOptions{7.0, 1.5}), gesso::GessoError);
  }
};

QTEST_GUILESS_MAIN(DenoiserTest)
#include "test_denoiser.moc"
