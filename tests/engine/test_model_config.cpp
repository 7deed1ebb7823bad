// Model configs: presets against the golden key manifests' reference configs, detection from tensor shapes (full-size
// manifests and tiny goldens), LDM/sgm YAML parsing (golden files and inline YAMLs), diffusers config.json parsing.
#include "gesso/models/model_config.h"

#include "gesso/error.h"
#include "gesso/io/safetensors.h"
#include "gesso/models/autoencoder_kl.h"
#include "gesso/models/model_config_files.h"
#include "gesso/models/unet.h"
#include "gesso/nn/layers.h"
#include "golden.h"

#include <QtTest>
#include <nlohmann/json.hpp>

#include <fstream>

using gesso::ErrorCode;
using gesso::GessoError;
using gesso::ModelConfig;
using gesso::ModelFamily;
using gesso::Prediction;
using gesso::UNetConfig;

// The YAML parser also reads the manifests' JSON configs; builds without yaml-cpp skip those tests.
#define GESSO_REQUIRE_YAML()                                                   \
  do {                                                                         \
    if (!gesso::yamlSupported()) QSKIP("built without YAML support (GESSO_WITH_YAML=OFF)"); \
  } while (0)

namespace {

nlohmann::json readJson(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

QString unetText(const UNetConfig& unet) { return QString::fromStdString(gesso::unetConfigToJson(gesso::canonicalUNet(unet), -1)); }
QString vaeText(const gesso::VaeConfig& vae) { return QString::fromStdString(gesso::vaeConfigToJson(vae, -1)); }
QString textText(const gesso::TextEncoderConfig& text) { return QString::fromStdString(gesso::textEncoderConfigToJson(text, -1)); }

// Every tensor of every section of a key manifest: name -> shape.
std::map<std::string, std::vector<int64_t>> manifestShapes(const nlohmann::json& manifest) {
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& [section, content] : manifest.at("sections").items()) {
    for (const auto& [key, tensor] : content.at("tensors").items()) shapes[key] = tensor.at("shape").get<std::vector<int64_t>>();
  }
  return shapes;
}

std::map<std::string, std::vector<int64_t>> fileShapes(const gesso::io::SafetensorsFile& file) {
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& info : file.tensors()) shapes[info.name] = info.shape;
  return shapes;
}

// Which text encoder (layout, output layer) a reference embedder class with its params stands for.
gesso::TextEncoderConfig expectedEmbedder(const nlohmann::json& embedder) {
  const std::string target = embedder.at("target");
  const nlohmann::json params = embedder.value("params", nlohmann::json::object());
  gesso::TextEncoderConfig text;
  if (target.find("FrozenOpenCLIPEmbedder") != std::string::npos) {
    text.layout = gesso::TextEncoderLayout::OpenClip;
    const bool legacy = params.value("legacy", true);
    // FrozenOpenCLIPEmbedder applies ln_final after the penultimate block; FrozenOpenCLIPEmbedder2 (legacy False) not.
    text.output_layer = target.find("Embedder2") != std::string::npos && !legacy ? gesso::TextOutputLayer::Penultimate
                                                                                  : gesso::TextOutputLayer::PenultimateNormed;
  } else {
    text.layout = gesso::TextEncoderLayout::HuggingFaceClip;
    text.output_layer = params.value("layer", std::string("last")) == "hidden" ? gesso::TextOutputLayer::Penultimate
                                                                               : gesso::TextOutputLayer::Last;
  }
  return text;
}

}  // namespace

class ModelConfigTest : public QObject {
  Q_OBJECT

 private slots:
  void presetsMatchManifests_data() {
    QTest::addColumn<QString>("manifest");
    QTest::addColumn<QString>("preset");
    QTest::newRow("sd15") << "sd15_keys.json" << "sd15";
    QTest::newRow("sd21") << "sd21_keys.json" << "sd21";
    QTest::newRow("sdxl") << "sdxl_keys.json" << "sdxl";
  }
  void presetsMatchManifests() {
    GESSO_REQUIRE_YAML();
    GESSO_REQUIRE_SHARED();
    QFETCH(QString, manifest);
    QFETCH(QString, preset);
    const nlohmann::json keys = readJson(gesso::test::goldenPath(manifest.toStdString()));
    const ModelConfig config = gesso::presetConfig(preset.toStdString());

    // The reference unet_config / first_stage_config read through the YAML parser (JSON is YAML).
    const auto unet = gesso::parseYamlConfig(keys.at("unet_config").dump(), manifest.toStdString() + " unet_config");
    QVERIFY(unet.unet.has_value());
    QCOMPARE(unetText(config.unet), unetText(*unet.unet));
    const auto vae = gesso::parseYamlConfig(keys.at("first_stage_config").dump(), manifest.toStdString() + " first_stage_config");
    QVERIFY(vae.vae.has_value());
    gesso::VaeConfig expected_vae = *vae.vae;
    expected_vae.scale_factor = keys.at("scale_factor").get<double>();
    QCOMPARE(vaeText(config.vae), vaeText(expected_vae));

    // Text encoders: layout and output layer from the conditioner config, sizes from the manifest's shapes.
    const nlohmann::json conditioner = keys.at("conditioner_config");
    std::vector<gesso::TextEncoderConfig> expected;
    if (conditioner.contains("params")) {
      for (const auto& embedder : conditioner.at("params").at("emb_models")) {
        if (embedder.at("input_key") == "txt") expected.push_back(expectedEmbedder(embedder));
      }
    } else {
      expected.push_back(expectedEmbedder(conditioner));
    }
    const ModelConfig detected = gesso::detectConfig(manifestShapes(keys));
    QCOMPARE(config.text_encoders.size(), expected.size());
    QCOMPARE(detected.text_encoders.size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
      QCOMPARE(int(config.text_encoders[i].layout), int(expected[i].layout));
      QCOMPARE(int(config.text_encoders[i].output_layer), int(expected[i].output_layer));
      QCOMPARE(config.text_encoders[i].pad_token, expected[i].layout == gesso::TextEncoderLayout::OpenClip ? int64_t(0) : int64_t(49407));
      QCOMPARE(textText(config.text_encoders[i]), textText(detected.text_encoders[i]));
    }
  }

  void detectionReproducesPresets_data() {
    QTest::addColumn<QString>("manifest");
    QTest::addColumn<QString>("preset");
    QTest::newRow("sd15") << "sd15_keys.json" << "sd15";
    QTest::newRow("sd21") << "sd21_keys.json" << "sd21";
    QTest::newRow("sdxl") << "sdxl_keys.json" << "sdxl";
  }
  void detectionReproducesPresets() {
    GESSO_REQUIRE_SHARED();
    QFETCH(QString, manifest);
    QFETCH(QString, preset);
    const nlohmann::json keys = readJson(gesso::test::goldenPath(manifest.toStdString()));
    ModelConfig expected = gesso::presetConfig(preset.toStdString());
    ModelConfig detected = gesso::detectConfig(manifestShapes(keys));
    expected.unet = gesso::canonicalUNet(expected.unet);
    detected.unet = gesso::canonicalUNet(detected.unet);
    QCOMPARE(QString::fromStdString(gesso::configToJson(detected, -1)), QString::fromStdString(gesso::configToJson(expected, -1)));
  }

  // An SDXL refiner-like conditioner: one open_clip embedder at index 0.
  void detectionOfSingleEmbedderConditioner() {
    GESSO_REQUIRE_SHARED();
    const nlohmann::json keys = readJson(gesso::test::goldenPath("sdxl_keys.json"));
    std::map<std::string, std::vector<int64_t>> shapes;
    for (const auto& [name, shape] : manifestShapes(keys)) {
      if (name.rfind("conditioner.embedders.0.", 0) == 0) continue;
      std::string renamed = name;
      if (renamed.rfind("conditioner.embedders.1.", 0) == 0) renamed.replace(0, 24, "conditioner.embedders.0.");
      shapes[renamed] = shape;
    }
    const ModelConfig config = gesso::detectConfig(shapes);
    QCOMPARE(config.family, ModelFamily::SDXL);
    QCOMPARE(config.text_encoders.size(), size_t(1));
    QCOMPARE(textText(config.text_encoders[0]), textText(gesso::presetConfig(ModelFamily::SDXL).text_encoders[1]));
    shapes["conditioner.embedders.1.something.weight"] = {1};
    try {
      (void)gesso::detectConfig(shapes);
      QFAIL("an unknown embedder was accepted");
    } catch (const GessoError& error) {
      QVERIFY(QString::fromStdString(error.error().detail).contains("conditioner.embedders.1."));
    }
  }

  void detectionOfVPrediction() {
    std::map<std::string, std::vector<int64_t>> shapes{{"model.diffusion_model.input_blocks.0.0.weight", {8, 4, 3, 3}},
                                                       {"model.diffusion_model.input_blocks.1.0.out_layers.3.weight", {8, 8, 3, 3}},
                                                       {"model.diffusion_model.out.2.weight", {4, 8, 3, 3}}};
    QCOMPARE(gesso::detectConfig(shapes).prediction, Prediction::Epsilon);
    shapes["v_pred"] = {};
    QCOMPARE(gesso::detectConfig(shapes).prediction, Prediction::V);
  }

  // The tiny UNets: everything but the head split is in the shapes; their YAML completes it.
  void tinyUNetDetection_data() {
    QTest::addColumn<QString>("name");
    QTest::newRow("unet_tiny") << "unet_tiny";
    QTest::newRow("unet_tiny_linear") << "unet_tiny_linear";
    QTest::newRow("unet_tiny_xl") << "unet_tiny_xl";
  }
  void tinyUNetDetection() {
    GESSO_REQUIRE_YAML();
    GESSO_REQUIRE_SHARED();
    QFETCH(QString, name);
    const std::string base = name.toStdString();
    const nlohmann::json reference = readJson(gesso::test::goldenPath(base + ".json"));
    const auto from_json = gesso::parseYamlConfig(reference.at("config").dump(), base + ".json config");
    QVERIFY(from_json.unet.has_value());
    const UNetConfig expected = *from_json.unet;

    ModelConfig detected = gesso::detectConfig(fileShapes(*gesso::test::openGolden(base + ".safetensors")));
    QCOMPARE(detected.family, ModelFamily::Custom);
    UNetConfig heads_from_reference = detected.unet;
    heads_from_reference.num_heads = expected.num_heads;
    heads_from_reference.num_head_channels = expected.num_head_channels;
    QCOMPARE(unetText(heads_from_reference), unetText(expected));

    const auto yaml = gesso::loadYamlConfig(gesso::test::goldenPath(base + ".yaml"));
    QVERIFY(yaml.unet.has_value());
    QCOMPARE(unetText(*yaml.unet), unetText(expected));
    yaml.applyTo(detected);
    QCOMPARE(unetText(detected.unet), unetText(expected));
    QCOMPARE(detected.prediction, Prediction::Epsilon);  // EpsScaling
    QCOMPARE(detected.vae.scale_factor, 0.18215);
  }

  void tinyVaeDetection() {
    GESSO_REQUIRE_YAML();
    GESSO_REQUIRE_SHARED();
    const nlohmann::json reference = readJson(gesso::test::goldenPath("vae_tiny.json"));
    const auto from_json = gesso::parseYamlConfig(reference.at("config").dump(), "vae_tiny.json config");
    QVERIFY(from_json.vae.has_value());
    gesso::VaeConfig detected = gesso::detectConfig(fileShapes(*gesso::test::openGolden("vae_tiny.safetensors"))).vae;
    QCOMPARE(detected.resolution, 256);  // not in the weights
    detected.resolution = from_json.vae->resolution;
    QCOMPARE(vaeText(detected), vaeText(*from_json.vae));
    const auto yaml = gesso::loadYamlConfig(gesso::test::goldenPath("vae_tiny.yaml"));
    QVERIFY(yaml.vae.has_value());
    QVERIFY(!yaml.unet.has_value());
    QCOMPARE(vaeText(*yaml.vae), vaeText(*from_json.vae));
  }

  void tinyTextDetection() {
    GESSO_REQUIRE_SHARED();
    const ModelConfig sdxl = gesso::detectConfig(fileShapes(*gesso::test::openGolden("text_sdxl_tiny.safetensors")));
    QCOMPARE(sdxl.family, ModelFamily::SDXL);
    QCOMPARE(sdxl.text_encoders.size(), size_t(2));
    QCOMPARE(sdxl.text_encoders[0].width, 64);
    QCOMPARE(sdxl.text_encoders[0].layers, 3);
    QCOMPARE(sdxl.text_encoders[0].mlp_width, 256);
    QCOMPARE(sdxl.text_encoders[1].width, 80);
    QCOMPARE(sdxl.text_encoders[1].projection_dim, 48);
    QCOMPARE(int(sdxl.text_encoders[1].output_layer), int(gesso::TextOutputLayer::Penultimate));
    const ModelConfig sd2 = gesso::detectConfig(fileShapes(*gesso::test::openGolden("text_openclip_tiny.safetensors")));
    QCOMPARE(sd2.family, ModelFamily::SD2);
    QCOMPARE(sd2.text_encoders.at(0).projection_dim, 40);
    QCOMPARE(int(sd2.text_encoders.at(0).output_layer), int(gesso::TextOutputLayer::PenultimateNormed));
    const ModelConfig sd1 = gesso::detectConfig(fileShapes(*gesso::test::openGolden("text_clip_tiny.safetensors")));
    QCOMPARE(sd1.family, ModelFamily::SD1);
    QCOMPARE(sd1.text_encoders.at(0).pad_token, int64_t(49407));
  }

  void presetLookup() {
    QCOMPARE(gesso::presetConfig("sd21-v").prediction, Prediction::V);
    QCOMPARE(gesso::presetConfig("sd2-768-v").family, ModelFamily::SD2);
    QCOMPARE(gesso::presetConfig("sd15").family, ModelFamily::SD1);
    QCOMPARE(gesso::presetConfig("sdxl").text_encoders.size(), size_t(2));
    QCOMPARE(gesso::presetConfig("sdxl").vae.scale_factor, 0.13025);
    try {
      (void)gesso::presetConfig("sd3");
      QFAIL("an unknown preset was accepted");
    } catch (const GessoError& error) {
      QCOMPARE(error.error().code, ErrorCode::ConfigError);
      QVERIFY(QString::fromStdString(error.error().detail).contains("sd3"));
      QVERIFY(QString::fromStdString(error.error().detail).contains("sdxl"));
    }
  }

  // CompVis v1-inference.yaml style (LDM): unet_config, first_stage_config, cond_stage_config.
  void ldmYaml() {
    GESSO_REQUIRE_YAML();
    const std::string yaml = R"(
model:
  base_learning_rate: 1.0e-04
  target: ldm.models.diffusion.ddpm.LatentDiffusion
  params:
    linear_start: 0.00085
    linear_end: 0.0120
    timesteps: 1000
    scale_factor: 0.18215
    use_ema: False
    unet_config:
      target: ldm.modules.diffusionmodules.openaimodel.UNetModel
      params:
        image_size: 32
        in_channels: 4
        out_channels: 4
        model_channels: 320
        attention_resolutions: [ 4, 2, 1 ]
        num_res_blocks: 2
        channel_mult: [ 1, 2, 4, 4 ]
        num_heads: 8
        use_spatial_transformer: True
        transformer_depth: 1
        context_dim: 768
        use_checkpoint: True
        legacy: False
    first_stage_config:
      target: ldm.models.autoencoder.AutoencoderKL
      params:
        embed_dim: 4
        monitor: val/rec_loss
        ddconfig:
          double_z: true
          z_channels: 4
          resolution: 256
          in_channels: 3
          out_ch: 3
          ch: 128
          ch_mult: [1, 2, 4, 4]
          num_res_blocks: 2
          attn_resolutions: []
          dropout: 0.0
        lossconfig:
          target: torch.nn.Identity
    cond_stage_config:
      target: ldm.modules.encoders.modules.FrozenCLIPEmbedder
)";
    const auto overrides = gesso::parseYamlConfig(yaml, "v1-inference.yaml");
    const ModelConfig sd1 = gesso::presetConfig(ModelFamily::SD1);
    QVERIFY(overrides.unet && overrides.vae && overrides.scale_factor);
    QCOMPARE(unetText(*overrides.unet), unetText(sd1.unet));
    QCOMPARE(vaeText(*overrides.vae), vaeText(sd1.vae));
    QVERIFY(!overrides.prediction);

    // v2-inference-v.yaml differs in the UNet and says parameterization "v".
    std::string v2 = yaml;
    v2.replace(v2.find("    scale_factor"), 0, "    parameterization: \"v\"\n");
    v2.replace(v2.find("num_heads: 8"), 12, "num_head_channels: 64\n        use_linear_in_transformer: True");
    v2.replace(v2.find("context_dim: 768"), 16, "context_dim: 1024");
    const auto v = gesso::parseYamlConfig(v2, "v2-inference-v.yaml");
    QCOMPARE(v.prediction, std::optional<Prediction>(Prediction::V));
    QCOMPARE(unetText(*v.unet), unetText(gesso::presetConfig(ModelFamily::SD2).unet));
    ModelConfig custom;
    custom.family = ModelFamily::Custom;
    v.applyTo(custom);
    QCOMPARE(custom.family, ModelFamily::SD2);
    QCOMPARE(custom.prediction, Prediction::V);
  }

  // generative-models configs/inference/sd_xl_base.yaml style (sgm): network_config, denoiser_config.
  void sgmYaml() {
    GESSO_REQUIRE_YAML();
    const std::string yaml = R"(
model:
  target: sgm.models.diffusion.DiffusionEngine
  params:
    scale_factor: 0.13025
    disable_first_stage_autocast: True
    denoiser_config:
      target: sgm.modules.diffusionmodules.denoiser.DiscreteDenoiser
      params:
        num_idx: 1000
        scaling_config:
          target: sgm.modules.diffusionmodules.denoiser_scaling.EpsScaling
        discretization_config:
          target: sgm.modules.diffusionmodules.discretizer.LegacyDDPMDiscretization
    network_config:
      target: sgm.modules.diffusionmodules.openaimodel.UNetModel
      params:
        adm_in_channels: 2816
        num_classes: sequential
        use_checkpoint: True
        in_channels: 4
        out_channels: 4
        model_channels: 320
        attention_resolutions: [4, 2]
        num_res_blocks: 2
        channel_mult: [1, 2, 4]
        num_head_channels: 64
        use_linear_in_transformer: True
        transformer_depth: [1, 2, 10]
        context_dim: 2048
        spatial_transformer_attn_type: softmax-xformers
    first_stage_config:
      target: sgm.models.autoencoder.AutoencoderKLInferenceWrapper
      params:
        embed_dim: 4
        monitor: val/rec_loss
        ddconfig:
          attn_type: vanilla-xformers
          double_z: true
          z_channels: 4
          resolution: 256
          in_channels: 3
          out_ch: 3
          ch: 128
          ch_mult: [1, 2, 4, 4]
          num_res_blocks: 2
          attn_resolutions: []
          dropout: 0.0
        lossconfig:
          target: torch.nn.Identity
)";
    const auto overrides = gesso::parseYamlConfig(yaml, "sd_xl_base.yaml");
    const ModelConfig sdxl = gesso::presetConfig(ModelFamily::SDXL);
    QCOMPARE(unetText(*overrides.unet), unetText(sdxl.unet));
    QCOMPARE(vaeText(*overrides.vae), vaeText(sdxl.vae));
    QCOMPARE(overrides.prediction, std::optional<Prediction>(Prediction::Epsilon));
    std::string v = yaml;
    v.replace(v.find("EpsScaling"), 10, "VScaling");
    QCOMPARE(gesso::parseYamlConfig(v, "v.yaml").prediction, std::optional<Prediction>(Prediction::V));
  }

  void yamlErrorsNameFileAndField_data() {
    QTest::addColumn<QString>("yaml");
    QTest::addColumn<QString>("field");
    const QString base = "model:\n  params:\n    unet_config:\n      params:\n";
    QTest::newRow("missing model_channels") << base + "        channel_mult: [1]\n        num_res_blocks: 1\n        attention_resolutions: []\n        num_heads: 1\n        context_dim: 8\n"
                                            << "model.params.unet_config.params.model_channels";
    QTest::newRow("text for int") << base + "        model_channels: many\n        channel_mult: [1]\n        num_res_blocks: 1\n        attention_resolutions: []\n        num_heads: 1\n        context_dim: 8\n"
                                  << "model.params.unet_config.params.model_channels";
    QTest::newRow("depth list length") << base + "        model_channels: 8\n        channel_mult: [1, 2]\n        num_res_blocks: 1\n        attention_resolutions: []\n        num_heads: 1\n        transformer_depth: [1, 2, 3]\n        context_dim: 8\n"
                                       << "model.params.unet_config.params.transformer_depth";
    QTest::newRow("no heads") << base + "        model_channels: 8\n        channel_mult: [1]\n        num_res_blocks: 1\n        attention_resolutions: []\n        context_dim: 8\n"
                              << "model.params.unet_config.params";
    QTest::newRow("bad parameterization") << "model:\n  params:\n    parameterization: x0\n    first_stage_config:\n      params:\n        embed_dim: 4\n        ddconfig: {z_channels: 4, ch: 8, ch_mult: [1], num_res_blocks: 1}\n"
                                          << "model.params.parameterization";
    QTest::newRow("not yaml") << "model: [unclosed" << "not valid YAML";
    QTest::newRow("nothing") << "foo: 1\n" << "model.params";
  }
  void yamlErrorsNameFileAndField() {
    GESSO_REQUIRE_YAML();
    QFETCH(QString, yaml);
    QFETCH(QString, field);
    try {
      (void)gesso::parseYamlConfig(yaml.toStdString(), "broken.yaml");
      QFAIL("a broken YAML was accepted");
    } catch (const GessoError& error) {
      const QString detail = QString::fromStdString(error.error().detail);
      QCOMPARE(error.error().code, ErrorCode::ConfigError);
      QVERIFY2(detail.contains("broken.yaml"), qPrintable(detail));
      QVERIFY2(detail.contains(field), qPrintable(detail));
    }
    try {
      (void)gesso::loadYamlConfig("/nonexistent/gesso.yaml");
      QFAIL("a missing file was accepted");
    } catch (const GessoError& error) {
      QCOMPARE(error.error().code, ErrorCode::FileNotFound);
    }
  }

  // diffusers config.json files as published for SD 1.5, SD 2.1 and SDXL base (the fields that matter).
  void diffusersUNetConfigs_data() {
    QTest::addColumn<QString>("json");
    QTest::addColumn<QString>("preset");
    QTest::newRow("sd15") << R"({"_class_name": "UNet2DConditionModel", "act_fn": "silu", "attention_head_dim": 8,
      "block_out_channels": [320, 640, 1280, 1280], "center_input_sample": false, "cross_attention_dim": 768,
      "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
      "downsample_padding": 1, "flip_sin_to_cos": true, "freq_shift": 0, "in_channels": 4, "layers_per_block": 2,
      "mid_block_scale_factor": 1, "norm_eps": 1e-05, "norm_num_groups": 32, "out_channels": 4, "sample_size": 64,
      "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"]})"
                          << "sd15";
    QTest::newRow("sd21") << R"({"_class_name": "UNet2DConditionModel", "attention_head_dim": [5, 10, 20, 20],
      "block_out_channels": [320, 640, 1280, 1280], "cross_attention_dim": 1024, "dual_cross_attention": false,
      "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
      "in_channels": 4, "layers_per_block": 2, "out_channels": 4, "sample_size": 96, "use_linear_projection": true,
      "upcast_attention": true, "num_class_embeds": null, "class_embed_type": null})"
                          << "sd21-v";
    QTest::newRow("sdxl") << R"({"_class_name": "UNet2DConditionModel", "addition_embed_type": "text_time",
      "addition_embed_type_num_heads": 64, "addition_time_embed_dim": 256, "attention_head_dim": [5, 10, 20],
      "block_out_channels": [320, 640, 1280], "cross_attention_dim": 2048,
      "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"], "in_channels": 4,
      "layers_per_block": 2, "num_attention_heads": null, "out_channels": 4, "projection_class_embeddings_input_dim": 2816,
      "sample_size": 128, "transformer_layers_per_block": [1, 2, 10], "use_linear_projection": true,
      "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"]})"
                          << "sdxl";
  }
  void diffusersUNetConfigs() {
    QFETCH(QString, json);
    QFETCH(QString, preset);
    const UNetConfig parsed = gesso::parseDiffusersUNetConfig(json.toStdString(), "unet/config.json");
    QCOMPARE(unetText(parsed), unetText(gesso::presetConfig(preset.toStdString()).unet));
  }

  // norm_num_groups (diffusers' field; Gesso's extension in LDM YAMLs) reaches the built modules' GroupNorms.
  void normGroupsFromConfigs() {
    GESSO_REQUIRE_YAML();
    const std::string yaml = R"(
model:
  params:
    unet_config:
      params: {model_channels: 32, channel_mult: [1, 2], num_res_blocks: 1, attention_resolutions: [1],
               num_head_channels: 16, context_dim: 16, norm_num_groups: 8}
    first_stage_config:
      params:
        embed_dim: 4
        ddconfig: {z_channels: 4, ch: 16, ch_mult: [1, 2], num_res_blocks: 1, norm_num_groups: 4}
)";
    const auto overrides = gesso::parseYamlConfig(yaml, "groups.yaml");
    QCOMPARE(overrides.unet->norm_groups, 8);
    QCOMPARE(overrides.vae->norm_groups, 4);
    const auto countGroups = [](torch::nn::Module& module, int64_t expected) {
      int count = 0;
      for (const auto& child : module.modules()) {
        if (auto* norm = dynamic_cast<gesso::nn::GroupNormImpl*>(child.get())) {
          if (norm->groups != expected) return -1;
          ++count;
        }
      }
      return count;
    };
    const auto options = torch::TensorOptions().dtype(torch::kFloat);
    gesso::models::UNet unet(*overrides.unet, options);
    gesso::models::AutoencoderKL vae(*overrides.vae, options);
    const int unet_norms = countGroups(*unet, 8), vae_norms = countGroups(*vae, 4);
    qInfo("GroupNorms: UNet %d with 8 groups, VAE %d with 4 groups", unet_norms, vae_norms);
    QVERIFY(unet_norms > 5);
    QVERIFY(vae_norms > 5);

    // diffusers config.json carries the same field; the default stays sgm's 32.
    const std::string json = R"({"block_out_channels": [32, 64], "down_block_types": ["CrossAttnDownBlock2D", "DownBlock2D"],
      "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D"], "attention_head_dim": 2, "cross_attention_dim": 16,
      "layers_per_block": 1, "norm_num_groups": 16})";
    QCOMPARE(gesso::parseDiffusersUNetConfig(json, "unet/config.json").norm_groups, 16);
    QCOMPARE(gesso::parseDiffusersVaeConfig(R"({"block_out_channels": [64, 128], "norm_num_groups": 8})", "vae/config.json").norm_groups, 8);
    QCOMPARE(gesso::presetConfig(ModelFamily::SD1).unet.norm_groups, 32);

    // A group count that does not divide the widths is named.
    std::string bad = yaml;
    bad.replace(bad.find("norm_num_groups: 8"), 18, "norm_num_groups: 5");
    try {
      (void)gesso::parseYamlConfig(bad, "groups.yaml");
      QFAIL("5 groups over 32 channels was accepted");
    } catch (const GessoError& error) {
      QVERIFY2(QString::fromStdString(error.error().detail).contains("norm_num_groups"), error.what());
    }
  }

  void diffusersVaeConfig() {
    const std::string json = R"({"_class_name": "AutoencoderKL", "act_fn": "silu", "block_out_channels": [128, 256, 512, 512],
      "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D"],
      "in_channels": 3, "latent_channels": 4, "layers_per_block": 2, "norm_num_groups": 32, "out_channels": 3,
      "sample_size": 1024, "scaling_factor": 0.13025,
      "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D"]})";
    gesso::VaeConfig parsed = gesso::parseDiffusersVaeConfig(json, "vae/config.json");
    QCOMPARE(parsed.resolution, 1024);
    parsed.resolution = 256;
    QCOMPARE(vaeText(parsed), vaeText(gesso::presetConfig(ModelFamily::SDXL).vae));
    try {
      (void)gesso::parseDiffusersVaeConfig(R"({"block_out_channels": "wide"})", "vae/config.json");
      QFAIL("a bad config was accepted");
    } catch (const GessoError& error) {
      QVERIFY(QString::fromStdString(error.error().detail).contains("vae/config.json"));
      QVERIFY(QString::fromStdString(error.error().detail).contains("block_out_channels"));
    }
  }
};

QTEST_GUILESS_MAIN(ModelConfigTest)
#include "test_model_config.moc"
