// LoRA training adapters and LoRA files: adapters leave the output unchanged until trained; a saved LoRA merged at
// strength 0, 0.5 and 1 changes the weights by exactly s·(alpha/rank)·up@down (strength 0: bit-identical) and the
// merged model equals the adapter-in-forward model; diffusers/PEFT-named twins merge to the same weights; state-dict
// round trips; bad files fail with named errors.
#include "gesso/io/diffusers_names.h"
#include "gesso/io/safetensors.h"
#include "gesso/lora/lora_file.h"
#include "gesso/lora/lora_network.h"
#include "expect_error.h"
#include "golden.h"
#include "pipeline_fixture.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <map>

using namespace gesso;

namespace {

struct Model {
  ModelConfig config;
  models::UNet unet{nullptr};
  std::vector<models::TextEncoder> text_encoders;
};

Model build(const ModelConfig& config, uint64_t seed = 11) {
  Model model;
  model.config = config;
  const auto options = at::TensorOptions().dtype(at::kFloat);
  model.unet = models::UNet(config.unet, options);
  nn::fillRandomWeights(*model.unet, seed);
  for (size_t i = 0; i < config.text_encoders.size(); ++i) {
    model.text_encoders.emplace_back(config.text_encoders[i], options);
    nn::fillRandomWeights(*model.text_encoders.back(), seed + 1 + i);
  }
  model.unet->eval();
  return model;
}

// UNet output and every text encoder's last hidden state on fixed inputs.
std::vector<at::Tensor> outputs(Model& model) {
  torch::NoGradGuard no_grad;
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(5);
  const UNetConfig& unet = model.config.unet;
  const at::Tensor x = at::randn({1, unet.in_channels, 16, 16}, generator);
  const at::Tensor t = at::tensor({500.0f});
  const at::Tensor context = at::randn({1, 5, unet.context_dim}, generator);
  const at::Tensor y = unet.adm_in_channels > 0 ? at::randn({1, unet.adm_in_channels}, generator) : at::Tensor();
  std::vector<at::Tensor> result{model.unet->forward(x, t, context, y)};
  const at::Tensor ids = at::tensor({49406, 320, 1125, 539, 49407, 0}, at::kLong).reshape({1, 6});
  for (auto& encoder : model.text_encoders) result.push_back(encoder->forward(ids).last_hidden_state);
  return result;
}

// Every UNet and text-encoder parameter by name (copies).
std::map<std::string, at::Tensor> snapshot(Model& model) {
  std::map<std::string, at::Tensor> weights;
  for (const auto& item : model.unet->named_parameters()) weights["unet." + item.key()] = item.value().detach().clone();
  for (size_t i = 0; i < model.text_encoders.size(); ++i) {
    for (const auto& item : model.text_encoders[i]->named_parameters()) {
      weights["te" + std::to_string(i) + "." + item.key()] = item.value().detach().clone();
    }
  }
  return weights;
}

bool bitIdentical(const std::map<std::string, at::Tensor>& a, const std::map<std::string, at::Tensor>& b) {
  for (const auto& [name, tensor] : a) {
    if (!at::equal(tensor, b.at(name))) return false;
  }
  return true;
}

// "Training": the adapters' up weights (zero at first) and down weights set to seeded random values.
void randomizeAdapters(lora::LoraNetwork& network, uint64_t seed) {
  torch::NoGradGuard no_grad;
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  for (at::Tensor& parameter : network.parameters()) {
    parameter.copy_(at::randn(parameter.sizes(), generator) * 0.2);
  }
}

lora::LoraApplication application(const std::string& path, double strength) {
  lora::LoraApplication lora;
  lora.path = path;
  lora.name = "test";
  lora.unet_strength = strength;
  lora.text_encoder_strength = strength;
  return lora;
}

}  // namespace

class LoraTest : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;

  std::string path(const std::string& name) const { return dir_.filePath(QString::fromStdString(name)).toStdString(); }

  // Trains (randomizes) a LoRA on `config`, saves it, and checks: adapters at init leave outputs bit-identical;
  // detached, outputs are the base's; merged at 1 the outputs equal the adapter model's within 1e-5; strength 0 is
  // bit-identical; the weight change at 0.5 is half that at 1 within 1e-6. Returns the saved path.
  std::string roundTrip(const char* label, const ModelConfig& config, const lora::LoraOptions& options) {
    Model model = build(config);
    const std::vector<at::Tensor> base = outputs(model);
    const auto base_weights = snapshot(model);
    auto network = lora::LoraNetwork::attach(model.unet, model.text_encoders, config, options, 3);
    const std::vector<at::Tensor> at_init = outputs(model);
    for (size_t i = 0; i < base.size(); ++i) {
      if (!at::equal(at_init[i], base[i])) {
        QTest::qFail("zero-initialised adapters changed an output", __FILE__, __LINE__);
        return {};
      }
    }
    randomizeAdapters(*network, 9);
    const std::vector<at::Tensor> adapted = outputs(model);
    const std::string file = path(std::string(label) + ".safetensors");
    network->save(file, {{"ss_output_name", label}}, at::kFloat);
    network->detach();
    const std::vector<at::Tensor> detached = outputs(model);
    for (size_t i = 0; i < base.size(); ++i) {
      if (!at::equal(detached[i], base[i])) {
        QTest::qFail("detach() did not restore the base outputs", __FILE__, __LINE__);
        return {};
      }
      const bool trained = i == 0 ? options.train_unet : options.train_text_encoder;
      if (trained == at::allclose(adapted[i], base[i])) {
        QTest::qFail("the trained adapters did not change exactly the outputs of the trained networks", __FILE__, __LINE__);
        return {};
      }
    }

    lora::LoraMerger merger;
    merger.apply(model.unet, model.text_encoders, config, {application(file, 0.0)});
    const auto zero_weights = snapshot(model);
    const std::vector<at::Tensor> at_zero = outputs(model);
    if (!bitIdentical(zero_weights, base_weights)) {
      QTest::qFail("strength 0 changed a weight", __FILE__, __LINE__);
      return {};
    }
    for (size_t i = 0; i < base.size(); ++i) {
      if (!at::equal(at_zero[i], base[i])) {
        QTest::qFail("strength 0 changed an output", __FILE__, __LINE__);
        return {};
      }
    }
    merger.apply(model.unet, model.text_encoders, config, {application(file, 1.0)});
    const auto one_weights = snapshot(model);
    const std::vector<at::Tensor> merged = outputs(model);
    merger.apply(model.unet, model.text_encoders, config, {application(file, 0.5)});
    const auto half_weights = snapshot(model);
    double max_delta_error = 0;
    int changed = 0;
    for (const auto& [name, w0] : base_weights) {
      const at::Tensor d1 = one_weights.at(name) - w0;
      const at::Tensor d_half = half_weights.at(name) - w0;
      if (d1.abs().max().item<double>() > 0) ++changed;
      max_delta_error = std::max(max_delta_error, (d_half - 0.5 * d1).abs().max().item<double>());
    }
    qInfo("%s: %d weights changed by the LoRA (%zu modules); max |delta(0.5) - 0.5*delta(1)| = %.3g", label, changed,
          network->moduleCount(), max_delta_error);
    if (changed == 0 || max_delta_error > 1e-6) {
      QTest::qFail("strength 0.5 is not half of strength 1", __FILE__, __LINE__);
      return {};
    }
    for (size_t i = 0; i < base.size(); ++i) {
      const auto comparison = test::compareTensors(QString("%1 merged vs adapters, output %2").arg(label).arg(i), merged[i], adapted[i], 1e-5, 0);
      if (!comparison.ok) {
        QTest::qFail("the merged model differs from the adapter model", __FILE__, __LINE__);
        return {};
      }
    }
    merger.apply(model.unet, model.text_encoders, config, {});
    if (!bitIdentical(snapshot(model), base_weights)) {
      QTest::qFail("an empty set did not restore the base weights", __FILE__, __LINE__);
      return {};
    }
    return file;
  }

 private slots:
  void initTestCase() { QVERIFY(dir_.isValid()); }

  void sd1UNetAndTextEncoder() {
    lora::LoraOptions options;
    options.rank = 4;
    options.alpha = 2;
    options.train_text_encoder = true;
    QVERIFY(!roundTrip("sd1", test::tinySd1Config(), options).empty());
  }

  void sd1LoCon() {
    lora::LoraOptions options;
    options.rank = 4;
    options.alpha = 4;
    options.conv_rank = 2;
    options.conv_alpha = 1;
    QVERIFY(!roundTrip("sd1_locon", test::tinySd1Config(), options).empty());
  }

  // open_clip's fused in_proj: q/k/v adapters on row slices.
  void sd2OpenClip() {
    lora::LoraOptions options;
    options.rank = 3;
    options.alpha = 1.5;
    options.train_text_encoder = true;
    QVERIFY(!roundTrip("sd2", test::tinySd2Config(), options).empty());
  }

  void sdxlTwoEncoders() {
    lora::LoraOptions options;
    options.rank = 2;
    options.alpha = 0;  // kohya: alpha = rank
    options.train_text_encoder = true;
    QVERIFY(!roundTrip("sdxl", test::tinySdxlConfig(), options).empty());
  }

  // The merged weight change equals alpha/rank · up @ down computed here from the file's own tensors.
  void deltaFromFileTensors() {
    const ModelConfig config = test::tinySd1Config();
    lora::LoraOptions options;
    options.rank = 4;
    options.alpha = 2;
    options.conv_rank = 2;
    options.conv_alpha = 3;
    options.train_text_encoder = true;
    Model model = build(config);
    auto network = lora::LoraNetwork::attach(model.unet, model.text_encoders, config, options, 3);
    randomizeAdapters(*network, 4);
    const std::string file = path("delta.safetensors");
    network->save(file, {}, at::kFloat);
    network->detach();
    const auto base = snapshot(model);
    lora::LoraMerger merger;
    merger.apply(model.unet, model.text_encoders, config, {application(file, 0.7)});
    const auto merged = snapshot(model);
    const auto lora_file = io::SafetensorsFile::open(file);
    struct Case {
      std::string module, weight;
    };
    const Case cases[] = {
        {"lora_unet_input_blocks_1_1_transformer_blocks_0_attn2_to_k", "unet.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight"},
        {"lora_unet_output_blocks_3_1_proj_in", "unet.output_blocks.3.1.proj_in.weight"},  // 1x1 conv
        {"lora_unet_input_blocks_2_0_op", "unet.input_blocks.2.0.op.weight"},              // 3x3 conv, stride 2
        {"lora_unet_middle_block_0_emb_layers_1", "unet.middle_block.0.emb_layers.1.weight"},
        {"lora_te_text_model_encoder_layers_1_mlp_fc1", "te0.text_model.encoder.layers.1.mlp.fc1.weight"},
    };
    for (const Case& c : cases) {
      const at::Tensor down = lora_file->tensor(c.module + ".lora_down.weight");
      const at::Tensor up = lora_file->tensor(c.module + ".lora_up.weight");
      const double alpha = lora_file->tensor(c.module + ".alpha").item<double>();
      const double scale = 0.7 * alpha / static_cast<double>(down.size(0));
      at::Tensor expected;
      if (down.dim() == 2) {
        expected = at::matmul(up, down) * scale;
      } else {
        expected = at::einsum("or,rikl->oikl", {up.flatten(1), down}) * scale;
      }
      GESSO_COMPARE_TENSORS(QString::fromStdString(c.module), merged.at(c.weight) - base.at(c.weight), expected, 1e-6, 0);
    }
  }

  // The same LoRA under diffusers/PEFT and kohya-diffusers names merges to the same weights.
  void diffusersNamedTwins() {
    const ModelConfig config = test::tinySd1Config();
    lora::LoraOptions options;
    options.rank = 4;
    options.alpha = 2;
    options.train_text_encoder = true;
    Model model = build(config);
    auto network = lora::LoraNetwork::attach(model.unet, model.text_encoders, config, options, 3);
    randomizeAdapters(*network, 5);
    const std::string kohya = path("twin_kohya.safetensors");
    network->save(kohya, {}, at::kFloat);
    const auto state = network->stateDict();
    network->detach();

    // kohya name -> dotted module name, from the parameter names and the shared LDM -> diffusers table.
    std::vector<std::string> unet_names;
    for (const auto& item : model.unet->named_parameters()) unet_names.push_back(item.key());
    std::map<std::string, std::string> dotted;
    for (const auto& mapping : io::ldmUNetToDiffusers(unet_names)) {
      const std::string& source = mapping.sources.at(0);
      if (source.size() < 7 || source.substr(source.size() - 7) != ".weight") continue;
      std::string ldm = source.substr(0, source.size() - 7);
      std::replace(ldm.begin(), ldm.end(), '.', '_');
      dotted["lora_unet_" + ldm] = "unet." + mapping.target.substr(0, mapping.target.size() - 7);
    }
    for (const auto& item : model.text_encoders[0]->named_parameters()) {
      if (item.key().size() < 7 || item.key().substr(item.key().size() - 7) != ".weight") continue;
      std::string module = item.key().substr(0, item.key().size() - 7);
      std::string kohya_name = "lora_te_" + module;
      std::replace(kohya_name.begin(), kohya_name.end(), '.', '_');
      dotted[kohya_name] = "text_encoder." + module;
    }
    auto kohyaDiffusers = [](const std::string& dotted_name) {
      std::string name = dotted_name.substr(5);  // drop "unet."
      std::replace(name.begin(), name.end(), '.', '_');
      return "lora_unet_" + name;
    };
    std::vector<std::pair<std::string, at::Tensor>> peft, diffusers, kohya_diffusers;
    std::map<std::string, at::Tensor> by_key(state.begin(), state.end());
    for (const auto& name : network->moduleNames()) {
      const std::string module = dotted.at(name);
      const at::Tensor down = by_key.at(name + ".lora_down.weight").detach();
      const at::Tensor up = by_key.at(name + ".lora_up.weight").detach();
      const at::Tensor alpha = by_key.at(name + ".alpha");
      // PEFT: no alpha, so the scale is folded into B.
      peft.emplace_back(module + ".lora_A.weight", down);
      peft.emplace_back(module + ".lora_B.weight", up * (alpha.item<double>() / down.size(0)));
      diffusers.emplace_back(module + ".lora.down.weight", down);
      diffusers.emplace_back(module + ".lora.up.weight", up);
      diffusers.emplace_back(module + ".alpha", alpha);
      const std::string underscored = module.rfind("unet.", 0) == 0 ? kohyaDiffusers(module) : name;
      kohya_diffusers.emplace_back(underscored + ".lora_down.weight", down);
      kohya_diffusers.emplace_back(underscored + ".lora_up.weight", up);
      kohya_diffusers.emplace_back(underscored + ".alpha", alpha);
    }
    io::writeSafetensors(path("twin_peft.safetensors"), peft);
    io::writeSafetensors(path("twin_diffusers.safetensors"), diffusers);
    io::writeSafetensors(path("twin_kohya_diffusers.safetensors"), kohya_diffusers);

    lora::LoraMerger merger;
    merger.apply(model.unet, model.text_encoders, config, {application(kohya, 0.8)});
    const auto expected = snapshot(model);
    for (const char* twin : {"twin_peft.safetensors", "twin_diffusers.safetensors", "twin_kohya_diffusers.safetensors"}) {
      merger.apply(model.unet, model.text_encoders, config, {application(path(twin), 0.8)});
      const auto actual = snapshot(model);
      double max_diff = 0;
      for (const auto& [name, tensor] : expected) max_diff = std::max(max_diff, (actual.at(name) - tensor).abs().max().item<double>());
      qInfo("%s vs kohya names: max weight diff %.3g", twin, max_diff);
      QVERIFY2(max_diff <= 1e-6, twin);
    }
  }

  // Two LoRAs add; re-applying the same set is a no-op; another set replaces it exactly.
  void setsAndReapplying() {
    const ModelConfig config = test::tinySd1Config();
    Model model = build(config);
    const auto base = snapshot(model);
    lora::LoraOptions options;
    options.rank = 2;
    std::string files[2];
    for (int i = 0; i < 2; ++i) {
      auto network = lora::LoraNetwork::attach(model.unet, model.text_encoders, config, options, 20 + i);
      randomizeAdapters(*network, 30 + i);
      files[i] = path("set" + std::to_string(i) + ".safetensors");
      network->save(files[i], {}, at::kFloat);
    }
    lora::LoraMerger merger;
    QVERIFY(merger.apply(model.unet, model.text_encoders, config, {application(files[0], 1.0)}));
    const auto first = snapshot(model);
    QVERIFY(!merger.apply(model.unet, model.text_encoders, config, {application(files[0], 1.0)}));
    QVERIFY(merger.apply(model.unet, model.text_encoders, config, {application(files[1], 1.0)}));
    const auto second = snapshot(model);
    QVERIFY(merger.apply(model.unet, model.text_encoders, config, {application(files[0], 1.0), application(files[1], 1.0)}));
    const auto both = snapshot(model);
    double max_diff = 0;
    for (const auto& [name, w0] : base) {
      max_diff = std::max(max_diff, ((both.at(name) - w0) - ((first.at(name) - w0) + (second.at(name) - w0))).abs().max().item<double>());
    }
    qInfo("two LoRAs: max |delta(a+b) - delta(a) - delta(b)| = %.3g", max_diff);
    QVERIFY(max_diff <= 1e-6);
    merger.restore();
    QVERIFY(bitIdentical(snapshot(model), base));
    QVERIFY(merger.current().empty());
  }

  void stateDictRoundTrip() {
    const ModelConfig config = test::tinySd1Config();
    Model model = build(config);
    lora::LoraOptions options;
    options.rank = 3;
    options.alpha = 1;
    auto first = lora::LoraNetwork::attach(model.unet, model.text_encoders, config, options, 1);
    randomizeAdapters(*first, 2);
    const auto expected = outputs(model);
    auto state = first->stateDict();
    for (auto& [name, tensor] : state) tensor = tensor.detach().clone();
    first->detach();
    auto second = lora::LoraNetwork::attach(model.unet, model.text_encoders, config, options, 99);
    const at::Tensor down_before = second->parameters().front();
    second->loadStateDict(state);
    QVERIFY(second->parameters().front().is_same(down_before));  // the optimiser's tensors keep their identity
    const auto actual = outputs(model);
    QVERIFY(at::equal(actual[0], expected[0]));
    QCOMPARE(second->parameters().size(), 2 * second->moduleCount());
    for (const auto& p : second->parameters()) QVERIFY(p.requires_grad());

    auto missing = state;
    missing.pop_back();
    GESSO_EXPECT_ERROR(second->loadStateDict(missing), ErrorCode::MissingKey, ".alpha");
    auto extra = state;
    extra.emplace_back("lora_unet_nothing.lora_down.weight", at::zeros({1}));
    GESSO_EXPECT_ERROR(second->loadStateDict(extra), ErrorCode::UnexpectedKey, "lora_unet_nothing");
    auto misshapen = state;
    misshapen[0].second = at::zeros({7, 7});
    GESSO_EXPECT_ERROR(second->loadStateDict(misshapen), ErrorCode::ShapeMismatch, misshapen[0].first);
  }

  void savedFileFormat() {
    const ModelConfig config = test::tinySdxlConfig();
    Model model = build(config);
    lora::LoraOptions options;
    options.rank = 4;
    options.alpha = 8;
    options.conv_rank = 2;
    options.conv_alpha = 1;
    auto network = lora::LoraNetwork::attach(model.unet, model.text_encoders, config, options, 1);
    const std::string file = path("format.safetensors");
    network->save(file, {{"ss_output_name", "my_style"}, {"ss_training_comment", "tiny"}}, at::kHalf);
    const auto saved = io::SafetensorsFile::open(file);
    QCOMPARE(saved->tensors().size(), 3 * network->moduleCount());
    for (const auto& info : saved->tensors()) QCOMPARE(int(info.dtype), int(io::Dtype::F16));
    const auto& metadata = saved->metadata();
    QCOMPARE(metadata.at("ss_network_module"), std::string("networks.lora"));
    QCOMPARE(metadata.at("ss_network_dim"), std::string("4"));
    QCOMPARE(metadata.at("ss_network_alpha"), std::string("8.0"));
    QCOMPARE(metadata.at("ss_network_args"), std::string(R"({"conv_alpha":"1.0","conv_dim":"2"})"));
    QCOMPARE(metadata.at("ss_base_model_version"), std::string("sdxl_base_v1-0"));
    QCOMPARE(metadata.at("ss_v2"), std::string("False"));
    QCOMPARE(metadata.at("ss_output_name"), std::string("my_style"));
    QCOMPARE(metadata.at("ss_training_comment"), std::string("tiny"));
    QCOMPARE(metadata.at("modelspec.title"), std::string("my_style"));
    QCOMPARE(saved->tensor("lora_unet_input_blocks_1_0_in_layers_2.lora_down.weight").sizes().vec(), (std::vector<int64_t>{2, 64, 3, 3}));
    QCOMPARE(saved->tensor("lora_unet_input_blocks_1_0_in_layers_2.lora_up.weight").sizes().vec(), (std::vector<int64_t>{64, 2, 1, 1}));
    QCOMPARE(saved->tensor("lora_unet_input_blocks_1_0_in_layers_2.alpha").dim(), int64_t{0});
    QCOMPARE(saved->tensor("lora_unet_input_blocks_1_0_in_layers_2.alpha").to(at::kFloat).item<float>(), 1.0f);
    QCOMPARE(saved->tensor("lora_unet_input_blocks_1_1_proj_in.alpha").to(at::kFloat).item<float>(), 8.0f);
    // An fp16 file merges its fp16 values (upcast); the up weights are zero until trained, so train them first.
    randomizeAdapters(*network, 12);
    network->save(file, {}, at::kHalf);
    network->detach();
    const auto base = snapshot(model);
    lora::LoraMerger merger;
    merger.apply(model.unet, model.text_encoders, config, {application(file, 1.0)});
    const auto merged = snapshot(model);
    const auto half = io::SafetensorsFile::open(file);
    const std::string module = "lora_unet_input_blocks_1_0_in_layers_2";
    const at::Tensor down = half->tensor(module + ".lora_down.weight").to(at::kFloat);
    const at::Tensor up = half->tensor(module + ".lora_up.weight").to(at::kFloat);
    const at::Tensor expected = at::einsum("or,rikl->oikl", {up.flatten(1), down}) * (1.0 / 2.0);
    const std::string weight = "unet.input_blocks.1.0.in_layers.2.weight";
    GESSO_COMPARE_TENSORS("fp16 LoCon delta", merged.at(weight) - base.at(weight), expected, 1e-6, 0);
  }

  // A1111's dyn: only the first N ranks, the scale still alpha / full rank.
  void dynDim() {
    const ModelConfig config = test::tinySd1Config();
    Model model = build(config);
    lora::LoraOptions options;
    options.rank = 4;
    options.alpha = 2;
    auto network = lora::LoraNetwork::attach(model.unet, model.text_encoders, config, options, 3);
    randomizeAdapters(*network, 6);
    const std::string file = path("dyn.safetensors");
    network->save(file, {}, at::kFloat);
    network->detach();
    const auto base = snapshot(model);
    lora::LoraMerger merger;
    lora::LoraApplication lora = application(file, 1.0);
    lora.dyn_dim = 1;
    merger.apply(model.unet, model.text_encoders, config, {lora});
    const auto merged = snapshot(model);
    const auto saved = io::SafetensorsFile::open(file);
    const std::string module = "lora_unet_output_blocks_0_1_transformer_blocks_0_ff_net_2";
    const at::Tensor down = saved->tensor(module + ".lora_down.weight");
    const at::Tensor up = saved->tensor(module + ".lora_up.weight");
    const at::Tensor expected = at::matmul(up.slice(1, 0, 1), down.slice(0, 0, 1)) * (2.0 / 4.0);
    const std::string weight = "unet.output_blocks.0.1.transformer_blocks.0.ff.net.2.weight";
    GESSO_COMPARE_TENSORS("dyn 1 delta", merged.at(weight) - base.at(weight), expected, 1e-6, 0);
  }

  void badFiles() {
    const ModelConfig config = test::tinySd1Config();
    Model model = build(config);
    lora::LoraMerger merger;
    const auto base = snapshot(model);
    auto apply = [&](const std::string& file) { merger.apply(model.unet, model.text_encoders, config, {application(file, 1.0)}); };
    const at::Tensor down = at::zeros({2, 32});
    const at::Tensor up = at::zeros({32, 2});

    GESSO_EXPECT_ERROR(apply(path("absent.safetensors")), ErrorCode::FileNotFound, "absent.safetensors");

    const std::string foreign = path("foreign.safetensors");
    io::writeSafetensors(foreign, {{"lora_unet_input_blocks_7_1_proj_in.lora_down.weight", down},
                                   {"lora_unet_input_blocks_7_1_proj_in.lora_up.weight", up},
                                   {"lora_unet_input_blocks_1_1_proj_in.lora_down.weight", at::zeros({2, 32, 1, 1})},
                                   {"lora_unet_input_blocks_1_1_proj_in.lora_up.weight", at::ones({32, 2, 1, 1})}});
    GESSO_EXPECT_ERROR(apply(foreign), ErrorCode::UnexpectedKey, "lora_unet_input_blocks_7_1_proj_in");
    QVERIFY(bitIdentical(snapshot(model), base));  // nothing half-applied

    const std::string strange = path("strange.safetensors");
    io::writeSafetensors(strange, {{"lora_unet_input_blocks_1_1_proj_in.weight", down}});
    GESSO_EXPECT_ERROR(apply(strange), ErrorCode::UnexpectedKey, "lora_unet_input_blocks_1_1_proj_in.weight");

    const std::string loha = path("loha.safetensors");
    io::writeSafetensors(loha, {{"lora_unet_input_blocks_1_1_proj_in.hada_w1_a", down}});
    GESSO_EXPECT_ERROR(apply(loha), ErrorCode::InvalidFormat, "hada_w1_a");

    const std::string half = path("half.safetensors");
    io::writeSafetensors(half, {{"lora_unet_input_blocks_1_1_proj_in.lora_down.weight", at::zeros({2, 32, 1, 1})}});
    GESSO_EXPECT_ERROR(apply(half), ErrorCode::InvalidFormat, "no up");

    const std::string misshapen = path("misshapen.safetensors");
    io::writeSafetensors(misshapen, {{"lora_unet_input_blocks_1_1_proj_in.lora_down.weight", at::zeros({2, 48, 1, 1})},
                                     {"lora_unet_input_blocks_1_1_proj_in.lora_up.weight", at::zeros({32, 2, 1, 1})}});
    GESSO_EXPECT_ERROR(apply(misshapen), ErrorCode::ShapeMismatch, "input_blocks.1.1.proj_in");

    const std::string ranks = path("ranks.safetensors");
    io::writeSafetensors(ranks, {{"lora_unet_input_blocks_1_1_proj_in.lora_down.weight", at::zeros({2, 32, 1, 1})},
                                 {"lora_unet_input_blocks_1_1_proj_in.lora_up.weight", at::zeros({32, 3, 1, 1})}});
    GESSO_EXPECT_ERROR(apply(ranks), ErrorCode::ShapeMismatch, "not a low-rank pair");

    const std::string text = path("not_safetensors.safetensors");
    QFile out(QString::fromStdString(text));
    QVERIFY(out.open(QIODevice::WriteOnly));
    out.write("this is not a LoRA");
    out.close();
    GESSO_EXPECT_ERROR(apply(text), ErrorCode::InvalidFormat, "not_safetensors.safetensors");
    QVERIFY(bitIdentical(snapshot(model), base));
  }
};

QTEST_GUILESS_MAIN(LoraTest)
#include "test_lora.moc"
