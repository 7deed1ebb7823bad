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
        <translation>
            <numerusform>지난 세션의 작업 %n개가 기다리고 있습니다.</numerusform>
        </translation>
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
    <message>
        <source>Save a picture of the window to FILE and quit</source>
        <translation>창 그림을 FILE에 저장하고 끝내기</translation>
    </message>
    <message>
        <source>Show this tab first (0 = Generate)</source>
        <translation>이 탭을 먼저 표시 (0 = 생성)</translation>
    </message>
    <message>
        <source>Start the generations left queued by the last session at once</source>
        <translation>지난 세션에서 대기열에 남은 생성 작업을 바로 시작합니다</translation>
    </message>
</context>
<context>
    <name>gesso::ui::CompareCellView</name>
    <message>
        <source>Open in Generate</source>
        <translation>생성 탭에서 열기</translation>
    </message>
    <message>
        <source>Fork…</source>
        <translation>분기…</translation>
    </message>
    <message>
        <source>Open this cell&apos;s settings in the Generate tab</source>
        <translation>이 셀의 설정을 생성 탭에서 엽니다</translation>
    </message>
    <message>
        <source>Continue this cell from the shown step with other settings</source>
        <translation>표시된 단계부터 다른 설정으로 이 셀을 이어서 생성합니다</translation>
    </message>
    <message>
        <source>step %1 of %2</source>
        <translation>%2단계 중 %1단계</translation>
    </message>
    <message>
        <source>%1 s</source>
        <translation>%1초</translation>
    </message>
</context>
<context>
    <name>gesso::ui::CompareTab</name>
    <message>
        <source>Show every cell at this step</source>
        <translation>모든 셀을 이 단계로 표시</translation>
    </message>
    <message>
        <source>Step: live</source>
        <translation>단계: 실시간</translation>
    </message>
    <message>
        <source>Failed: %1</source>
        <translation>실패: %1</translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation>취소됨</translation>
    </message>
    <message>
        <source>Checkpoint (from the models folder, or a path)</source>
        <translation>체크포인트 (모델 폴더에서 선택하거나 경로 입력)</translation>
    </message>
    <message>
        <source>Prompt</source>
        <translation>프롬프트</translation>
    </message>
    <message>
        <source>Negative prompt</source>
        <translation>네거티브 프롬프트</translation>
    </message>
    <message>
        <source>Seed (-1: random, the same for every cell)</source>
        <translation>시드 (-1: 무작위, 모든 셀에 같은 값)</translation>
    </message>
    <message>
        <source>Step counts, comma separated</source>
        <translation>단계 수, 쉼표로 구분</translation>
    </message>
    <message>
        <source>CFG scales, comma separated</source>
        <translation>CFG 스케일, 쉼표로 구분</translation>
    </message>
    <message>
        <source>Compare</source>
        <translation>비교</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>취소</translation>
    </message>
    <message>
        <source>Export grid…</source>
        <translation>그리드 내보내기…</translation>
    </message>
    <message>
        <source>From Generate</source>
        <translation>생성 탭에서 가져오기</translation>
    </message>
    <message>
        <source>Take the model, prompts, seed and size from the Generate tab</source>
        <translation>생성 탭의 모델, 프롬프트, 시드, 크기를 가져옵니다</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>모델</translation>
    </message>
    <message>
        <source>Negative</source>
        <translation>네거티브</translation>
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
        <source>Samplers</source>
        <translation>샘플러</translation>
    </message>
    <message>
        <source>Schedulers</source>
        <translation>스케줄러</translation>
    </message>
    <message>
        <source>Steps</source>
        <translation>단계</translation>
    </message>
    <message>
        <source>CFG</source>
        <translation>CFG</translation>
    </message>
    <message>
        <source>Export grid</source>
        <translation>그리드 내보내기</translation>
    </message>
    <message>
        <source>PNG images (*.png)</source>
        <translation>PNG 이미지 (*.png)</translation>
    </message>
    <message>
        <source>Export failed: %1</source>
        <translation>내보내기 실패: %1</translation>
    </message>
    <message>
        <source>Grid written to %1</source>
        <translation>그리드를 %1에 저장했습니다</translation>
    </message>
    <message>
        <source>Check at least one sampler.</source>
        <translation>샘플러를 하나 이상 선택하세요.</translation>
    </message>
    <message>
        <source>Check at least one scheduler.</source>
        <translation>스케줄러를 하나 이상 선택하세요.</translation>
    </message>
    <message>
        <source>Steps must be whole numbers separated by commas.</source>
        <translation>단계 수는 쉼표로 구분한 정수여야 합니다.</translation>
    </message>
    <message>
        <source>CFG scales must be numbers separated by commas.</source>
        <translation>CFG 스케일은 쉼표로 구분한 숫자여야 합니다.</translation>
    </message>
    <message numerus="yes">
        <source>Running %n cell(s)…</source>
        <translation>
            <numerusform>셀 %n개 실행 중…</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Compare %n cell(s)</source>
        <translation>
            <numerusform>셀 %n개 비교</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Finished %n cell(s).</source>
        <translation>
            <numerusform>셀 %n개 완료.</numerusform>
        </translation>
    </message>
    <message>
        <source>Step %1 (final)</source>
        <translation>%1단계 (최종)</translation>
    </message>
    <message>
        <source>Step %1</source>
        <translation>%1단계</translation>
    </message>
    <message>
        <source>Cell %1 has no latent at step %2 (forks need a finished run).</source>
        <translation>셀 %1에는 %2단계의 잠재 표현이 없습니다 (분기는 끝난 실행에서만 가능합니다).</translation>
    </message>
    <message>
        <source>fork of %1 at step %2: %3</source>
        <translation>셀 %1의 %2단계 분기: %3</translation>
    </message>
    <message>
        <source>Forking cell %1 at step %2…</source>
        <translation>셀 %1을 %2단계에서 분기하는 중…</translation>
    </message>
    <message>
        <source>Fork finished.</source>
        <translation>분기 완료.</translation>
    </message>
</context>
<context>
    <name>gesso::ui::ForkDialog</name>
    <message>
        <source>Fork from step %1</source>
        <translation>%1단계에서 분기</translation>
    </message>
    <message>
        <source>Steps of the new schedule; the fork runs the part below the cell&apos;s noise level at this step</source>
        <translation>새 스케줄의 단계 수. 분기는 이 단계에서 셀의 노이즈 수준보다 낮은 부분만 실행합니다</translation>
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
        <translation>단계</translation>
    </message>
    <message>
        <source>CFG scale</source>
        <translation>CFG 스케일</translation>
    </message>
    <message>
        <source>Prompt</source>
        <translation>프롬프트</translation>
    </message>
    <message>
        <source>Negative prompt</source>
        <translation>네거티브 프롬프트</translation>
    </message>
</context>
<context>
    <name>gesso::ui::ModelsView</name>
    <message>
        <source>Name</source>
        <translation>이름</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>종류</translation>
    </message>
    <message>
        <source>Family</source>
        <translation>계열</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>크기</translation>
    </message>
    <message>
        <source>Hash</source>
        <translation>해시</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>상태</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>새로 고침</translation>
    </message>
    <message>
        <source>Load</source>
        <translation>불러오기</translation>
    </message>
    <message>
        <source>Unload</source>
        <translation>내리기</translation>
    </message>
    <message>
        <source>Load the selected checkpoint now, so the next job starts at once</source>
        <translation>선택한 체크포인트를 지금 불러와 다음 작업이 바로 시작되게 합니다</translation>
    </message>
    <message>
        <source>Loaded</source>
        <translation>불러옴</translation>
    </message>
    <message>
        <source>Reading…</source>
        <translation>읽는 중…</translation>
    </message>
    <message numerus="yes">
        <source>%n model file(s)</source>
        <translation>
            <numerusform>모델 파일 %n개</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n unusable</source>
        <translation>
            <numerusform>사용 불가 %n개</numerusform>
        </translation>
    </message>
    <message>
        <source>Read model details</source>
        <translation>모델 정보 읽기</translation>
    </message>
    <message>
        <source>Damaged or unreadable: %1</source>
        <translation>손상되었거나 읽을 수 없음: %1</translation>
    </message>
    <message>
        <source>OK</source>
        <translation>정상</translation>
    </message>
    <message>
        <source>Loading…</source>
        <translation>불러오는 중…</translation>
    </message>
    <message>
        <source>Load %1</source>
        <translation>%1 불러오기</translation>
    </message>
    <message>
        <source>Cannot load: %1</source>
        <translation>불러올 수 없음: %1</translation>
    </message>
    <message>
        <source>Unload %1</source>
        <translation>%1 내리기</translation>
    </message>
    <message>
        <source>Convert</source>
        <translation>변환</translation>
    </message>
    <message>
        <source>Rewrite the selected PyTorch pickle checkpoint as a .safetensors file beside it (read without running any code in it); the app then uses that file</source>
        <translation>선택한 PyTorch 피클 체크포인트를 옆에 .safetensors 파일로 다시 씁니다 (안의 코드는 전혀 실행하지 않고 읽습니다). 이후 앱은 그 파일을 사용합니다</translation>
    </message>
    <message>
        <source>Converting…</source>
        <translation>변환 중…</translation>
    </message>
    <message>
        <source>Converted to %1 (double-click uses it)</source>
        <translation>%1(으)로 변환됨 (두 번 클릭하면 사용합니다)</translation>
    </message>
    <message>
        <source>%1 already exists: use it, or move it away to convert again</source>
        <translation>%1이(가) 이미 있습니다: 그 파일을 쓰거나, 다시 변환하려면 옮기세요</translation>
    </message>
    <message>
        <source>Convert %1</source>
        <translation>%1 변환</translation>
    </message>
    <message>
        <source>Cannot convert: %1</source>
        <translation>변환할 수 없음: %1</translation>
    </message>
    <message>
        <source>PyTorch pickle</source>
        <translation>PyTorch 피클</translation>
    </message>
    <message numerus="yes">
        <source>%n to convert</source>
        <translation>
            <numerusform>변환할 파일 %n개</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>gesso::ui::DatasetPanel</name>
    <message>
        <source>Folder of images with .txt captions</source>
        <translation>.txt 캡션이 있는 이미지 폴더</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>찾아보기…</translation>
    </message>
    <message>
        <source>Scan</source>
        <translation>검사</translation>
    </message>
    <message>
        <source>Caption of the selected image</source>
        <translation>선택한 이미지의 캡션</translation>
    </message>
    <message>
        <source>Save caption</source>
        <translation>캡션 저장</translation>
    </message>
    <message>
        <source>File</source>
        <translation>파일</translation>
    </message>
    <message>
        <source>Why it was skipped</source>
        <translation>건너뛴 이유</translation>
    </message>
    <message>
        <source>Bucket (w × h)</source>
        <translation>버킷 (가로 × 세로)</translation>
    </message>
    <message>
        <source>Images</source>
        <translation>이미지</translation>
    </message>
    <message>
        <source>Skipped files</source>
        <translation>건너뛴 파일</translation>
    </message>
    <message>
        <source>Buckets</source>
        <translation>버킷</translation>
    </message>
    <message>
        <source>Dataset folder</source>
        <translation>데이터셋 폴더</translation>
    </message>
    <message>
        <source>Saved</source>
        <translation>저장됨</translation>
    </message>
    <message>
        <source>Scanning…</source>
        <translation>검사 중…</translation>
    </message>
    <message>
        <source>Scan %1</source>
        <translation>%1 검사</translation>
    </message>
    <message>
        <source>Cannot use this folder: %1</source>
        <translation>이 폴더를 사용할 수 없음: %1</translation>
    </message>
    <message numerus="yes">
        <source>%n usable image(s)</source>
        <translation>
            <numerusform>사용 가능한 이미지 %n개</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n skipped</source>
        <translation>
            <numerusform>건너뜀 %n개</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n bucket(s)</source>
        <translation>
            <numerusform>버킷 %n개</numerusform>
        </translation>
    </message>
    <message>
        <source>No image is selected.</source>
        <translation>선택된 이미지가 없습니다.</translation>
    </message>
    <message>
        <source>Cannot write %1: %2</source>
        <translation>%1을(를) 쓸 수 없음: %2</translation>
    </message>
</context>
<context>
    <name>gesso::ui::TrainChart</name>
    <message>
        <source>Step</source>
        <translation>단계</translation>
    </message>
    <message>
        <source>Loss</source>
        <translation>손실</translation>
    </message>
    <message>
        <source>Learning rate</source>
        <translation>학습률</translation>
    </message>
    <message>
        <source>Loss (smoothed)</source>
        <translation>손실 (평활)</translation>
    </message>
    <message>
        <source>Validation loss</source>
        <translation>검증 손실</translation>
    </message>
    <message>
        <source>step %1: loss %2</source>
        <translation>%1단계: 손실 %2</translation>
    </message>
    <message>
        <source>, smoothed %1</source>
        <translation>, 평활 %1</translation>
    </message>
    <message>
        <source>, lr %1</source>
        <translation>, 학습률 %1</translation>
    </message>
    <message>
        <source>
validation at step %1: %2</source>
        <translation>
%1단계 검증: %2</translation>
    </message>
</context>
<context>
    <name>gesso::ui::TrainTab</name>
    <message>
        <source>Export %1</source>
        <translation>%1 내보내기</translation>
    </message>
    <message>
        <source>Cannot export %1: %2</source>
        <translation>%1을(를) 내보낼 수 없음: %2</translation>
    </message>
    <message>
        <source>Compare checkpoints…</source>
        <translation>체크포인트 비교…</translation>
    </message>
    <message>
        <source>A grid of the checkpoints × LoRA strengths × prompts at fixed seeds</source>
        <translation>고정 시드로 만든 체크포인트 × LoRA 강도 × 프롬프트 격자</translation>
    </message>
    <message>
        <source>No checkpoint of this run is on disk.</source>
        <translation>이 실행의 체크포인트가 디스크에 없습니다.</translation>
    </message>
    <message>
        <source>Use in Generate</source>
        <translation>생성 탭에서 사용</translation>
    </message>
    <message>
        <source>%1 holds no model or LoRA file.</source>
        <translation>%1에 모델이나 LoRA 파일이 없습니다.</translation>
    </message>
    <message>
        <source>Cannot copy %1 to %2.</source>
        <translation>%1을(를) %2(으)로 복사할 수 없습니다.</translation>
    </message>
    <message>
        <source>Training could not run: %1</source>
        <translation>학습을 실행할 수 없음: %1</translation>
    </message>
    <message>
        <source>Stopped before it started.</source>
        <translation>시작하기 전에 중지되었습니다.</translation>
    </message>
    <message>
        <source>Checkpoint to train from</source>
        <translation>학습을 시작할 체크포인트</translation>
    </message>
    <message>
        <source>Sets the defaults below for this model family</source>
        <translation>이 모델 계열에 맞게 아래 기본값을 설정합니다</translation>
    </message>
    <message>
        <source>LoRA</source>
        <translation>LoRA</translation>
    </message>
    <message>
        <source>Full fine-tune</source>
        <translation>전체 미세 조정</translation>
    </message>
    <message>
        <source>Run folder (checkpoints, samples, metrics.jsonl)</source>
        <translation>실행 폴더 (체크포인트, 샘플, metrics.jsonl)</translation>
    </message>
    <message>
        <source>Basic</source>
        <translation>기본</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>모델</translation>
    </message>
    <message>
        <source>Family</source>
        <translation>계열</translation>
    </message>
    <message>
        <source>Method</source>
        <translation>방식</translation>
    </message>
    <message>
        <source>Output</source>
        <translation>출력</translation>
    </message>
    <message>
        <source>Steps</source>
        <translation>단계</translation>
    </message>
    <message>
        <source>Batch size</source>
        <translation>배치 크기</translation>
    </message>
    <message>
        <source>Learning rate</source>
        <translation>학습률</translation>
    </message>
    <message>
        <source>LoRA rank</source>
        <translation>LoRA 랭크</translation>
    </message>
    <message>
        <source>LoRA alpha</source>
        <translation>LoRA 알파</translation>
    </message>
    <message>
        <source>Resolution</source>
        <translation>해상도</translation>
    </message>
    <message>
        <source>EMA decay; 0 turns it off</source>
        <translation>EMA 감쇠율. 0이면 끕니다</translation>
    </message>
    <message>
        <source>Gradient checkpointing</source>
        <translation>그래디언트 체크포인팅</translation>
    </message>
    <message>
        <source>γ of min-SNR-γ loss weighting; 0 turns it off</source>
        <translation>min-SNR-γ 손실 가중치의 γ. 0이면 끕니다</translation>
    </message>
    <message>
        <source>File with one prompt per line</source>
        <translation>한 줄에 프롬프트 하나씩 적은 파일</translation>
    </message>
    <message>
        <source>Random horizontal flips</source>
        <translation>무작위 좌우 반전</translation>
    </message>
    <message>
        <source>Aspect-ratio buckets</source>
        <translation>종횡비 버킷</translation>
    </message>
    <message>
        <source>Train the text encoder too</source>
        <translation>텍스트 인코더도 학습</translation>
    </message>
    <message>
        <source>LoCon rank of the 3×3 convolutions; 0 turns it off</source>
        <translation>3×3 합성곱의 LoCon 랭크. 0이면 끕니다</translation>
    </message>
    <message>
        <source>Advanced</source>
        <translation>고급</translation>
    </message>
    <message>
        <source>Gradient accumulation</source>
        <translation>그래디언트 누적</translation>
    </message>
    <message>
        <source>LR schedule</source>
        <translation>학습률 스케줄</translation>
    </message>
    <message>
        <source>Warm-up steps</source>
        <translation>워밍업 단계</translation>
    </message>
    <message>
        <source>EMA decay</source>
        <translation>EMA 감쇠율</translation>
    </message>
    <message>
        <source>Mixed precision</source>
        <translation>혼합 정밀도</translation>
    </message>
    <message>
        <source>Min-SNR γ</source>
        <translation>Min-SNR γ</translation>
    </message>
    <message>
        <source>Noise offset</source>
        <translation>노이즈 오프셋</translation>
    </message>
    <message>
        <source>Save every (steps)</source>
        <translation>저장 간격 (단계)</translation>
    </message>
    <message>
        <source>Checkpoints kept</source>
        <translation>보관할 체크포인트 수</translation>
    </message>
    <message>
        <source>Sample every (steps)</source>
        <translation>샘플 간격 (단계)</translation>
    </message>
    <message>
        <source>Sample prompts</source>
        <translation>샘플 프롬프트</translation>
    </message>
    <message>
        <source>Validation split</source>
        <translation>검증 비율</translation>
    </message>
    <message>
        <source>Validate every (steps)</source>
        <translation>검증 간격 (단계)</translation>
    </message>
    <message>
        <source>Seed</source>
        <translation>시드</translation>
    </message>
    <message>
        <source>LoCon rank</source>
        <translation>LoCon 랭크</translation>
    </message>
    <message>
        <source>Start</source>
        <translation>시작</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>일시 정지</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>중지</translation>
    </message>
    <message>
        <source>Save a checkpoint and stop</source>
        <translation>체크포인트를 저장하고 중지합니다</translation>
    </message>
    <message>
        <source>Open run…</source>
        <translation>실행 열기…</translation>
    </message>
    <message>
        <source>Step</source>
        <translation>단계</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>시간</translation>
    </message>
    <message>
        <source>Validation loss</source>
        <translation>검증 손실</translation>
    </message>
    <message>
        <source>Folder</source>
        <translation>폴더</translation>
    </message>
    <message>
        <source>Checkpoints</source>
        <translation>체크포인트</translation>
    </message>
    <message>
        <source>Run folder</source>
        <translation>실행 폴더</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>재개</translation>
    </message>
    <message>
        <source>Starting…</source>
        <translation>시작하는 중…</translation>
    </message>
    <message>
        <source>Train %1</source>
        <translation>%1 학습</translation>
    </message>
    <message>
        <source>Finished: %1</source>
        <translation>완료: %1</translation>
    </message>
    <message>
        <source>Stopped (%1): %2</source>
        <translation>중지됨 (%1): %2</translation>
    </message>
    <message>
        <source>Paused (between steps).</source>
        <translation>일시 정지됨 (단계 사이).</translation>
    </message>
    <message>
        <source>Resumed.</source>
        <translation>재개됨.</translation>
    </message>
    <message>
        <source>Stopping: saving a checkpoint…</source>
        <translation>중지하는 중: 체크포인트 저장…</translation>
    </message>
    <message>
        <source>Step %1 / %2 · epoch %3 · loss %4 (smoothed %5) · lr %6 · %7 images/s · ETA %8</source>
        <translation>%1 / %2단계 · 에포크 %3 · 손실 %4 (평활 %5) · 학습률 %6 · 초당 이미지 %7장 · 남은 시간 %8</translation>
    </message>
    <message>
        <source>step %1</source>
        <translation>%1단계</translation>
    </message>
    <message>
        <source>A run is in progress.</source>
        <translation>실행 중인 학습이 있습니다.</translation>
    </message>
    <message>
        <source>Cannot read the run: %1</source>
        <translation>실행을 읽을 수 없음: %1</translation>
    </message>
    <message>
        <source>Run ended: %1 %2</source>
        <translation>실행 종료: %1 %2</translation>
    </message>
</context>
<context>
    <name>ModelFolders</name>
    <message>
        <source>%1 (bundled)</source>
        <translation>%1 (내장)</translation>
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
        <source>Not a model</source>
        <translation>모델 아님</translation>
    </message>
    <message>
        <source>%1 GiB</source>
        <translation>%1 GiB</translation>
    </message>
    <message>
        <source>%1 MiB</source>
        <translation>%1 MiB</translation>
    </message>
    <message>
        <source>%1 KiB</source>
        <translation>%1 KiB</translation>
    </message>
    <message>
        <source>%1 is a PyTorch pickle file, which is never loaded directly (pickles can run code): Convert writes %2 beside it (the same as: gesso-cli convert &quot;%1&quot; &quot;%2&quot;)</source>
        <translation>%1은(는) PyTorch 피클 파일이라 직접 불러오지 않습니다 (피클은 코드를 실행할 수 있습니다): 변환하면 옆에 %2을(를) 씁니다 (gesso-cli convert &quot;%1&quot; &quot;%2&quot;와 같습니다)</translation>
    </message>
    <message>
        <source>%1 is a safetensors file but holds no Stable Diffusion UNet, VAE or LoRA tensors</source>
        <translation>%1은(는) safetensors 파일이지만 Stable Diffusion UNet, VAE, LoRA 텐서가 없습니다</translation>
    </message>
    <message>
        <source>any</source>
        <translation>모두</translation>
    </message>
    <message>
        <source>Not a valid safetensors file (damaged, or not a model): %1</source>
        <translation>올바른 safetensors 파일이 아닙니다 (손상되었거나 모델이 아님): %1</translation>
    </message>
</context>
<context>
    <name>gesso::ui::CheckpointCompareDialog</name>
    <message>
        <source>Queued: it starts when the running job (e.g. training) ends.</source>
        <translation>대기 중: 실행 중인 작업(예: 학습)이 끝나면 시작합니다.</translation>
    </message>
    <message>
        <source>“%1” is not a LoRA strength (expected numbers such as 0.5, 1.0).</source>
        <translation>“%1”은(는) LoRA 강도가 아닙니다(0.5, 1.0 같은 숫자를 입력하세요).</translation>
    </message>
    <message>
        <source>Give at least one LoRA strength.</source>
        <translation>LoRA 강도를 하나 이상 입력하세요.</translation>
    </message>
    <message>
        <source>Compare checkpoints</source>
        <translation>체크포인트 비교</translation>
    </message>
    <message>
        <source>Step %1</source>
        <translation>스텝 %1</translation>
    </message>
    <message>
        <source>LoRA strengths, separated by commas</source>
        <translation>쉼표로 구분한 LoRA 강도</translation>
    </message>
    <message>
        <source>A full fine-tune has no LoRA strength</source>
        <translation>전체 파인튜닝에는 LoRA 강도가 없습니다</translation>
    </message>
    <message>
        <source>One prompt per line</source>
        <translation>한 줄에 프롬프트 하나</translation>
    </message>
    <message>
        <source>Seed of the first prompt; prompt N uses seed + N − 1 in every column</source>
        <translation>첫 프롬프트의 시드. 프롬프트 N은 모든 열에서 시드 + N − 1을 씁니다</translation>
    </message>
    <message>
        <source>Checkpoints</source>
        <translation>체크포인트</translation>
    </message>
    <message>
        <source>LoRA strengths</source>
        <translation>LoRA 강도</translation>
    </message>
    <message>
        <source>Prompts</source>
        <translation>프롬프트</translation>
    </message>
    <message>
        <source>Seed</source>
        <translation>시드</translation>
    </message>
    <message>
        <source>Sampling steps</source>
        <translation>샘플링 스텝</translation>
    </message>
    <message>
        <source>Compare</source>
        <translation>비교</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>취소</translation>
    </message>
    <message>
        <source>Save PNG…</source>
        <translation>PNG 저장…</translation>
    </message>
    <message>
        <source>Save grid</source>
        <translation>격자 저장</translation>
    </message>
    <message>
        <source>PNG images (*.png)</source>
        <translation>PNG 이미지 (*.png)</translation>
    </message>
    <message>
        <source>Cannot write %1.</source>
        <translation>%1에 쓸 수 없습니다.</translation>
    </message>
    <message>
        <source>Preparing the checkpoints…</source>
        <translation>체크포인트 준비 중…</translation>
    </message>
    <message>
        <source>Image %1 of %2</source>
        <translation>이미지 %1 / %2</translation>
    </message>
    <message>
        <source>The comparison failed: %1</source>
        <translation>비교 실패: %1</translation>
    </message>
    <message>
        <source>Cancelled.</source>
        <translation>취소되었습니다.</translation>
    </message>
    <message>
        <source>Select at least one checkpoint.</source>
        <translation>체크포인트를 하나 이상 선택하세요.</translation>
    </message>
    <message>
        <source>Give at least one prompt.</source>
        <translation>프롬프트를 하나 이상 입력하세요.</translation>
    </message>
    <message>
        <source>Compare %1 checkpoints</source>
        <translation>체크포인트 %1개 비교</translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation>취소하는 중…</translation>
    </message>
    <message>
        <source>%1 × %2 images.</source>
        <translation>이미지 %1 × %2개.</translation>
    </message>
</context>
</TS>
