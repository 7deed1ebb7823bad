<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ko_KR">
<context>
    <name>gesso::ui::GalleryWidget</name>
    <message>
        <source>Send to img2img</source>
        <translation>img2img로 보내기</translation>
    </message>
    <message>
        <source>Reuse parameters</source>
        <translation>매개변수 재사용</translation>
    </message>
    <message>
        <source>Open folder</source>
        <translation>폴더 열기</translation>
    </message>
    <message>
        <source>Negative prompt: %1</source>
        <translation>네거티브 프롬프트: %1</translation>
    </message>
    <message>
        <source>Steps: %1, Sampler: %2, Scheduler: %3, CFG scale: %4, Seed: %5, Size: %6x%7</source>
        <translation>스텝: %1, 샘플러: %2, 스케줄러: %3, CFG 스케일: %4, 시드: %5, 크기: %6x%7</translation>
    </message>
    <message>
        <source>Model: %1</source>
        <translation>모델: %1</translation>
    </message>
    <message>
        <source>Denoising strength: %1</source>
        <translation>디노이징 강도: %1</translation>
    </message>
    <message>
        <source>Hires upscale: %1, Hires strength: %2</source>
        <translation>고해상도 배율: %1, 고해상도 강도: %2</translation>
    </message>
    <message>
        <source>Finished: %1</source>
        <translation>완료: %1</translation>
    </message>
    <message>
        <source>(file missing)</source>
        <translation>(파일 없음)</translation>
    </message>
</context>
<context>
    <name>gesso::ui::GenerateTab</name>
    <message>
        <source>Prompt: (word:1.2) weighs a word, [word] lightens it, BREAK starts a new chunk, &lt;lora:name:0.8&gt; applies a LoRA</source>
        <translation>프롬프트: (단어:1.2)는 단어를 강조하고, [단어]는 약하게 하며, BREAK는 새 청크를 시작하고, &lt;lora:이름:0.8&gt;은 LoRA를 적용합니다</translation>
    </message>
    <message>
        <source>Negative prompt</source>
        <translation>네거티브 프롬프트</translation>
    </message>
    <message>
        <source>Prompt</source>
        <translation>프롬프트</translation>
    </message>
    <message>
        <source>Generate</source>
        <translation>생성</translation>
    </message>
    <message>
        <source>Generate (Ctrl+Enter)</source>
        <translation>생성 (Ctrl+Enter)</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>취소</translation>
    </message>
    <message>
        <source>Cancel (Esc)</source>
        <translation>취소 (Esc)</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>모델</translation>
    </message>
    <message>
        <source>Choose a LoRA to add its tag to the prompt</source>
        <translation>LoRA를 고르면 프롬프트에 태그가 추가됩니다</translation>
    </message>
    <message>
        <source>Checkpoint</source>
        <translation>체크포인트</translation>
    </message>
    <message>
        <source>VAE</source>
        <translation>VAE</translation>
    </message>
    <message>
        <source>LoRA</source>
        <translation>LoRA</translation>
    </message>
    <message>
        <source>Sampling</source>
        <translation>샘플링</translation>
    </message>
    <message>
        <source>-1 picks a random seed</source>
        <translation>-1이면 무작위 시드를 고릅니다</translation>
    </message>
    <message>
        <source>Random seed (-1)</source>
        <translation>무작위 시드 (-1)</translation>
    </message>
    <message>
        <source>Reuse the last seed</source>
        <translation>마지막 시드 재사용</translation>
    </message>
    <message>
        <source>Presets…</source>
        <translation>프리셋…</translation>
    </message>
    <message>
        <source>size</source>
        <translation>크기</translation>
    </message>
    <message>
        <source>count</source>
        <translation>횟수</translation>
    </message>
    <message>
        <source>model default</source>
        <translation>모델 기본값</translation>
    </message>
    <message>
        <source>Sampler</source>
        <translation>샘플러</translation>
    </message>
    <message>
        <source>Scheduler</source>
        <translation>스케줄러</translation>
    </message>
    <message>
        <source>Steps</source>
        <translation>스텝</translation>
    </message>
    <message>
        <source>CFG scale</source>
        <translation>CFG 스케일</translation>
    </message>
    <message>
        <source>CFG rescale</source>
        <translation>CFG 리스케일</translation>
    </message>
    <message>
        <source>Seed</source>
        <translation>시드</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>크기</translation>
    </message>
    <message>
        <source>Batch</source>
        <translation>배치</translation>
    </message>
    <message>
        <source>Clip skip</source>
        <translation>CLIP 건너뛰기</translation>
    </message>
    <message>
        <source>img2img / inpaint</source>
        <translation>img2img / 인페인트</translation>
    </message>
    <message>
        <source> px</source>
        <translation> 픽셀</translation>
    </message>
    <message>
        <source>Clear mask</source>
        <translation>마스크 지우기</translation>
    </message>
    <message>
        <source>Clear image</source>
        <translation>이미지 지우기</translation>
    </message>
    <message>
        <source>Denoising strength</source>
        <translation>디노이징 강도</translation>
    </message>
    <message>
        <source>Brush radius</source>
        <translation>브러시 반경</translation>
    </message>
    <message>
        <source>Hires fix</source>
        <translation>고해상도 보정</translation>
    </message>
    <message>
        <source>same as steps</source>
        <translation>스텝과 같음</translation>
    </message>
    <message>
        <source>Upscale by</source>
        <translation>확대 배율</translation>
    </message>
    <message>
        <source>Hires steps</source>
        <translation>고해상도 스텝</translation>
    </message>
    <message>
        <source>The preview appears here while an image is generated.</source>
        <translation>이미지를 생성하는 동안 여기에 미리보기가 표시됩니다.</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>재개</translation>
    </message>
    <message>
        <source>Discard</source>
        <translation>버리기</translation>
    </message>
    <message>
        <source>Queue</source>
        <translation>대기열</translation>
    </message>
    <message>
        <source>Loading the model…</source>
        <translation>모델 불러오는 중…</translation>
    </message>
    <message>
        <source>Step %1/%2</source>
        <translation>스텝 %1/%2</translation>
    </message>
    <message>
        <source> (hires)</source>
        <translation> (고해상도)</translation>
    </message>
    <message>
        <source> · batch %1/%2</source>
        <translation> · 배치 %1/%2</translation>
    </message>
    <message>
        <source> · ETA %1 s</source>
        <translation> · 남은 시간 %1초</translation>
    </message>
    <message>
        <source>Done.</source>
        <translation>완료.</translation>
    </message>
    <message>
        <source>Cancelled.</source>
        <translation>취소됨.</translation>
    </message>
    <message>
        <source>Failed: %1</source>
        <translation>실패: %1</translation>
    </message>
    <message>
        <source>Generation failed: %1</source>
        <translation>생성 실패: %1</translation>
    </message>
    <message>
        <source>(from the checkpoint)</source>
        <translation>(체크포인트의 VAE)</translation>
    </message>
    <message>
        <source>(add a LoRA…)</source>
        <translation>(LoRA 추가…)</translation>
    </message>
    <message>
        <source>Reading the tokenizer</source>
        <translation>토크나이저 읽는 중</translation>
    </message>
    <message>
        <source>Parameters restored from %1</source>
        <translation>%1에서 매개변수를 복원했습니다</translation>
    </message>
    <message>
        <source>%1 holds no generation parameters (%2)</source>
        <translation>%1에 생성 매개변수가 없습니다 (%2)</translation>
    </message>
    <message>
        <source>Choose a checkpoint first (Settings → Models folder).</source>
        <translation>먼저 체크포인트를 고르세요 (설정 → 모델 폴더).</translation>
    </message>
    <message>
        <source>Invalid parameters: %1</source>
        <translation>잘못된 매개변수: %1</translation>
    </message>
    <message>
        <source>Running: %1</source>
        <translation>실행 중: %1</translation>
    </message>
    <message>
        <source>Queued: %1</source>
        <translation>대기 중: %1</translation>
    </message>
    <message>
        <source>Restored: %1</source>
        <translation>복원됨: %1</translation>
    </message>
    <message numerus="yes">
        <source>%n job(s) from the last session are waiting.</source>
        <translation><numerusform>지난 세션의 작업 %n개가 기다리고 있습니다.</numerusform></translation>
    </message>
    <message>
        <source>Drop an image to run img2img; paint a mask to inpaint. Clear the image for txt2img.</source>
        <translation>이미지를 놓으면 img2img를 실행하고, 마스크를 칠하면 인페인트합니다. txt2img로 돌아가려면 이미지를 지우세요.</translation>
    </message>
</context>
<context>
    <name>gesso::ui::ImageCanvas</name>
    <message>
        <source>Drop an image here. Paint the area to repaint with the left button, erase with the right.</source>
        <translation>여기에 이미지를 놓으세요. 다시 그릴 영역을 왼쪽 버튼으로 칠하고, 오른쪽 버튼으로 지웁니다.</translation>
    </message>
    <message>
        <source>Drop an image for img2img / inpaint</source>
        <translation>img2img / 인페인트용 이미지를 여기에 놓으세요</translation>
    </message>
</context>
<context>
    <name>gesso::ui::MainWindow</name>
    <message>
        <source>Applying settings</source>
        <translation>설정 적용 중</translation>
    </message>
    <message>
        <source>Gesso</source>
        <translation>Gesso</translation>
    </message>
    <message>
        <source>Generate</source>
        <translation>생성</translation>
    </message>
    <message>
        <source>Compare</source>
        <translation>비교</translation>
    </message>
    <message>
        <source>Train</source>
        <translation>학습</translation>
    </message>
    <message>
        <source>Models</source>
        <translation>모델</translation>
    </message>
    <message>
        <source>Compare samplers side by side: this tab is not built into this version yet.</source>
        <translation>샘플러를 나란히 비교합니다: 이 버전에는 아직 이 탭이 없습니다.</translation>
    </message>
    <message>
        <source>Train a LoRA or a full model: this tab is not built into this version yet.</source>
        <translation>LoRA 또는 전체 모델을 학습합니다: 이 버전에는 아직 이 탭이 없습니다.</translation>
    </message>
    <message>
        <source>Checkpoints, VAEs and LoRAs in the models folder: this view is not built into this version yet.</source>
        <translation>모델 폴더의 체크포인트, VAE, LoRA: 이 버전에는 아직 이 화면이 없습니다.</translation>
    </message>
    <message>
        <source>Ready</source>
        <translation>준비됨</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>파일(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Open image parameters…</source>
        <translation>이미지 매개변수 열기(&amp;O)…</translation>
    </message>
    <message>
        <source>Open a PNG with parameters</source>
        <translation>매개변수가 있는 PNG 열기</translation>
    </message>
    <message>
        <source>PNG images (*.png)</source>
        <translation>PNG 이미지 (*.png)</translation>
    </message>
    <message>
        <source>&amp;Save image as…</source>
        <translation>다른 이름으로 이미지 저장(&amp;S)…</translation>
    </message>
    <message>
        <source>Se&amp;ttings…</source>
        <translation>설정(&amp;T)…</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>끝내기(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;Generate</source>
        <translation>생성(&amp;G)</translation>
    </message>
    <message>
        <source>&amp;Cancel</source>
        <translation>취소(&amp;C)</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>보기(&amp;V)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>도움말(&amp;H)</translation>
    </message>
    <message>
        <source>&amp;About Gesso</source>
        <translation>Gesso 정보(&amp;A)</translation>
    </message>
    <message>
        <source>About Gesso</source>
        <translation>Gesso 정보</translation>
    </message>
    <message>
        <source>&lt;b&gt;Gesso %1&lt;/b&gt;&lt;br&gt;A native desktop studio for Stable Diffusion 1.x, 2.x and XL.</source>
        <translation>&lt;b&gt;Gesso %1&lt;/b&gt;&lt;br&gt;Stable Diffusion 1.x, 2.x, XL을 위한 네이티브 데스크톱 스튜디오.</translation>
    </message>
    <message>
        <source>The language changes when the running jobs are done or after a restart.</source>
        <translation>언어는 실행 중인 작업이 끝나거나 다시 시작한 뒤에 바뀝니다.</translation>
    </message>
    <message>
        <source>No image selected.</source>
        <translation>선택한 이미지가 없습니다.</translation>
    </message>
    <message>
        <source>Save image</source>
        <translation>이미지 저장</translation>
    </message>
    <message>
        <source>Saved %1</source>
        <translation>%1 저장함</translation>
    </message>
    <message>
        <source>Could not write %1.</source>
        <translation>%1을(를) 쓸 수 없습니다.</translation>
    </message>
</context>
<context>
    <name>gesso::ui::SettingsDialog</name>
    <message>
        <source>Settings</source>
        <translation>설정</translation>
    </message>
    <message>
        <source>Models folder</source>
        <translation>모델 폴더</translation>
    </message>
    <message>
        <source>Outputs folder</source>
        <translation>출력 폴더</translation>
    </message>
    <message>
        <source>LoRA folder</source>
        <translation>LoRA 폴더</translation>
    </message>
    <message>
        <source>Tokenizer (file or folder)</source>
        <translation>토크나이저 (파일 또는 폴더)</translation>
    </message>
    <message>
        <source>automatic: beside the model, $GESSO_TOKENIZER, ~/.local/share/gesso/clip</source>
        <translation>자동: 모델 옆, $GESSO_TOKENIZER, ~/.local/share/gesso/clip</translation>
    </message>
    <message>
        <source>CPU</source>
        <translation>CPU</translation>
    </message>
    <message>
        <source>CUDA (NVIDIA GPU)</source>
        <translation>CUDA (NVIDIA GPU)</translation>
    </message>
    <message>
        <source>fp32 (full)</source>
        <translation>fp32 (전체 정밀도)</translation>
    </message>
    <message>
        <source>bf16</source>
        <translation>bf16</translation>
    </message>
    <message>
        <source>fp16 (CUDA only)</source>
        <translation>fp16 (CUDA 전용)</translation>
    </message>
    <message>
        <source>automatic</source>
        <translation>자동</translation>
    </message>
    <message>
        <source>no preview</source>
        <translation>미리보기 없음</translation>
    </message>
    <message>
        <source> steps</source>
        <translation> 스텝</translation>
    </message>
    <message>
        <source>System language</source>
        <translation>시스템 언어</translation>
    </message>
    <message>
        <source>Device</source>
        <translation>장치</translation>
    </message>
    <message>
        <source>Precision</source>
        <translation>정밀도</translation>
    </message>
    <message>
        <source>Threads</source>
        <translation>스레드</translation>
    </message>
    <message>
        <source>Preview every</source>
        <translation>미리보기 간격</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>언어</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>찾아보기…</translation>
    </message>
    <message>
        <source>CLIP vocabulary (*.gz *.json)</source>
        <translation>CLIP 어휘 (*.gz *.json)</translation>
    </message>
</context>
<context>
    <name>main</name>
    <message>
        <source>Gesso: a desktop studio for Stable Diffusion</source>
        <translation>Gesso: Stable Diffusion 데스크톱 스튜디오</translation>
    </message>
    <message>
        <source>A PNG whose parameters to load</source>
        <translation>매개변수를 불러올 PNG</translation>
    </message>
</context>
</TS>
