//! The page's own words in both languages (the lessons' text lives in `www/lessons/`).
//! A message is a pair of strings; components read the current language from context.

use leptos::prelude::*;

pub use crate::course::Lang;
use crate::error::{NormlabError, Words};

/// One message in both languages.
#[derive(Clone, Copy, Debug)]
pub struct Msg {
    pub en: &'static str,
    pub zh: &'static str,
}

impl Msg {
    pub fn get(self, lang: Lang) -> &'static str {
        match lang {
            Lang::En => self.en,
            Lang::Zh => self.zh,
        }
    }
}

/// The page's language, shared through context.
#[derive(Clone, Copy)]
pub struct Language(pub RwSignal<Lang>);

pub fn lang() -> RwSignal<Lang> {
    expect_context::<Language>().0
}

/// A reactive text for a view.
pub fn tr(msg: Msg) -> impl Fn() -> &'static str + Send + Sync + Copy + 'static {
    let lang = lang();
    move || msg.get(lang.get())
}

/// Picks the English or Chinese form of a formatted text.
pub fn pick(lang: Lang, en: String, zh: String) -> String {
    match lang {
        Lang::En => en,
        Lang::Zh => zh,
    }
}

/// The lab's own bilingual text in the page's language.
pub fn words(words: &Words, lang: Lang) -> &str {
    match lang {
        Lang::En => &words.en,
        Lang::Zh => &words.zh,
    }
}

/// An error in the page's language. Details that come from the browser or the GPU driver
/// (a device's own error text, an HTTP status) are quoted as they came.
pub fn error_words(error: &NormlabError, lang: Lang) -> String {
    let zh = lang == Lang::Zh;
    match error {
        NormlabError::NoGpu(w) if zh => format!("WebGPU 不可用：{}", w.zh),
        NormlabError::DeviceLost(detail) if zh => format!("GPU 设备丢失了：{detail}"),
        NormlabError::Gpu(detail) if zh => format!("GPU 报告了一个错误：{detail}"),
        NormlabError::TooLarge { what, requested, limit } if zh => {
            format!("{}需要 {requested} 字节，超过了本设备允许的上限（{limit} 字节）", what.zh)
        }
        NormlabError::InvalidConfig(w) if zh => format!("无法实现的设置：{}", w.zh),
        NormlabError::BadData(w) if zh => format!("无法读取数据文件：{}", w.zh),
        NormlabError::Fetch { what, reason } if zh => format!("无法加载 {what}：{reason}"),
        NormlabError::Stopped if zh => "已停止".into(),
        other => other.to_string(),
    }
}

/// The words of a chart's data tables (its text alternative).
pub fn chart_words(lang: Lang) -> crate::chart::ChartWords {
    match lang {
        Lang::En => crate::chart::ChartWords::default(),
        Lang::Zh => crate::chart::ChartWords {
            summary: "图表数据",
            solid: "实线",
            faint: "浅色线",
            dashed: "虚线",
            points: "点",
            solid_with_points: "带圆点的粗线",
            dashed_with_triangles: "带三角的虚线",
            some_points: "{total} 个点中的 {shown} 个：第一个、最后一个、最低、最高，以及其间均匀选取的点",
            x: "横轴",
            y: "纵轴",
            histogram: "直方图",
            class: "类别",
            mean: "均值",
            standard_deviation: "标准差",
            edge_share: "两端区间中的比例",
            point_count: "点数",
            area_share: "所占面积比例",
        },
    }
}

/// A live piece's name, for the progress shown in the page header.
pub fn piece_name(group: &str, lang: Lang) -> String {
    let (en, zh) = match group {
        "l1/deep-mlp" => ("Lesson 1 · the deep MLP", "第 1 课 · 深层 MLP"),
        "l3/names" => ("Lesson 3 · the names model", "第 3 课 · 名字模型"),
        "l4/high-lr" => ("Lesson 4 · a learning rate too high", "第 4 课 · 过高的学习率"),
        "l5/batch-sweep" => ("Lesson 5 · the batch-size sweep", "第 5 课 · 批大小扫描"),
        "l6/regularizers" => ("Lesson 6 · BatchNorm vs Dropout", "第 6 课 · BatchNorm 与 Dropout"),
        "l7/noisy-bn" => ("Lesson 7 · noisy BatchNorm", "第 7 课 · 带噪声的 BatchNorm"),
        "l7/ics" => ("Lesson 7 · internal covariate shift", "第 7 课 · 内部协变量偏移"),
        "l7/smoothness" => ("Lesson 7 · the loss landscape", "第 7 课 · 损失地形"),
        "l7/lp-norm" => ("Lesson 7 · Lp normalization", "第 7 课 · Lp 归一化"),
        "l8/family" => ("Lesson 8 · the family table", "第 8 课 · 归一化家族对比表"),
        "l9/placement" => ("Lesson 9 · before or after the ReLU", "第 9 课 · 放在 ReLU 之前还是之后"),
        "l9/bias" => ("Lesson 9 · the bias before BatchNorm", "第 9 课 · BatchNorm 之前的偏置"),
        "l9/clipping" => ("Lesson 9 · gradient clipping", "第 9 课 · 梯度裁剪"),
        "playground" => ("Playground", "实验场"),
        other => return other.to_string(),
    };
    match lang {
        Lang::En => en.to_string(),
        Lang::Zh => zh.to_string(),
    }
}

/// A duration as people say it: "45 s", "3 min 20 s", "1 h 5 min".
pub fn duration_words(millis: f64, lang: Lang) -> String {
    if !millis.is_finite() {
        return "–".into();
    }
    let secs = (millis / 1000.0).round().max(0.0) as u64;
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    match lang {
        // Rounded to "0 s" a short time would read as none at all.
        Lang::En if secs == 0 => "< 1 s".into(),
        Lang::Zh if secs == 0 => "不到 1 秒".into(),
        Lang::En if h > 0 => format!("{h} h {m} min"),
        Lang::En if m > 0 => format!("{m} min {s} s"),
        Lang::En => format!("{s} s"),
        Lang::Zh if h > 0 => format!("{h} 小时 {m} 分"),
        Lang::Zh if m > 0 => format!("{m} 分 {s} 秒"),
        Lang::Zh => format!("{s} 秒"),
    }
}

macro_rules! messages {
    ($($name:ident = $en:literal / $zh:literal;)*) => {
        $(pub const $name: Msg = Msg { en: $en, zh: $zh };)*
    };
}

messages! {
    TAGLINE = "How normalization changes training — real experiments on your own device." / "归一化如何改变训练——在你自己的设备上运行真实实验。";
    LESSONS = "Lessons" / "课程";
    FOR_TEACHERS = "For teachers" / "教师工具";
    PREVIOUS = "Previous" / "上一课";
    NEXT = "Next" / "下一课";
    LANGUAGE = "Language" / "语言";
    DEVICE = "Compute device" / "计算设备";
    DETECTING = "Looking for a WebGPU adapter…" / "正在查找 WebGPU 适配器…";
    TRAIN = "Train" / "训练";
    RUN_BOTH = "Train both" / "两个都训练";
    RUN_ALL = "Run the sweep" / "运行扫描";
    STOP = "Stop" / "停止";
    RESTART = "Train the interrupted runs again" / "重新训练被中断的运行";
    CLEAR = "Clear runs" / "清除运行记录";
    EXPORT_CSV = "Export CSV" / "导出 CSV";
    EXPORT_JSON = "Export JSON" / "导出 JSON";
    SAVE_PNG = "Save chart as PNG" / "将图表保存为 PNG";
    REMOVE = "Remove" / "删除";
    LINK = "Link" / "链接";
    LINK_TITLE = "Opens this run's exact settings in the playground" / "在实验场中打开这次运行的完整设置";
    PRESET = "Preset" / "预设";
    SMOKE = "Test run (a few steps: checks that it runs, too short to show the effect)" / "试运行（只跑几步：检查能否运行，太短，看不出效果）";
    QUICK = "Quick" / "快速";
    FULL = "Full (the complete experiment)" / "完整（完整的实验）";
    LEARNING_RATE = "Learning rate" / "学习率";
    BATCH_SIZE = "Batch size" / "批大小";
    EPOCHS = "Epochs" / "轮数（epoch）";
    SEED = "Seed" / "随机种子";
    DATASET = "Data set" / "数据集";
    MODEL = "Model" / "模型";
    OPTIMIZER = "Optimizer" / "优化器";
    NORMALIZATION = "Normalization" / "归一化";
    NONE = "none" / "无";
    RUNS = "Runs" / "运行记录";
    NO_RUNS = "No runs yet." / "还没有运行记录。";
    BUSY_ELSEWHERE = "Another experiment is training; stop it or wait for it to finish." / "另一个实验正在训练；请先停止它或等它结束。";
    RUNNING = "running" / "训练中";
    INTERRUPTED = "interrupted (the page was closed or reloaded)" / "已中断（页面被关闭或刷新）";
    NOT_LEARNING = "not learning" / "没有学习";
    DIVERGED = "diverged" / "发散";
    LOG_SCALE = "Always a logarithmic loss axis (otherwise chosen by the data)" / "损失始终用对数坐标（否则按数据自动选择）";
    NO_RUNS_CHART = "Nothing to draw yet: press the Train button above, and this chart fills in while the runs train." / "还没有可画的内容：点击上方的训练按钮，图表会随训练逐步填充。";
    EPOCH_AXIS = "epoch" / "epoch";
    LOSS_AXIS = "training loss (cross-entropy, nats)" / "训练损失（交叉熵，nat）";
    KEY_BATCH = "batch loss" / "每批损失";
    KEY_EPOCH = "epoch mean" / "每个 epoch 的平均";
    KEY_ACCURACY = "test accuracy" / "测试准确率";
    ACCURACY_AXIS = "test accuracy, eval mode (%)" / "测试准确率，评估模式（%）";
    CHART_CAPTION = "Thin lines: loss of each training batch. Thick lines with dots: mean loss of each epoch. Dashed lines with triangles: test accuracy after each epoch (right axis, eval mode)." / "细线：每个训练批的损失。带圆点的粗线：每个 epoch 的平均损失。带三角的虚线：每个 epoch 后的测试准确率（右轴，评估模式）。";
    WITH_BN = "with BatchNorm" / "有 BatchNorm";
    WITHOUT_BN = "without BatchNorm" / "无 BatchNorm";
    STORED_LOST = "Stored results could not be read and were set aside" / "无法读取已保存的结果，已将其搁置";
    SETTINGS_IGNORED = "Some settings in the link were ignored" / "链接中的部分设置被忽略了";
    STEPS_PER_SEC = "steps/s" / "步/秒";
    STEPS = "steps" / "步";
    LOADING = "loading the data…" / "正在加载数据…";
    MEASURING = "timing a few steps on each engine to pick the faster…" / "正在各引擎上试跑几步，以选出更快的…";
    BUILDING = "building the model…" / "正在构建模型…";
    EVALUATING = "testing" / "正在测试";
    STOPPING = "stopping…" / "正在停止…";
    ELAPSED = "elapsed" / "已用";
    SKIP = "Skip to the lesson" / "跳到课程内容";
    FOOTER = "Data: Fashion-MNIST (Zalando, MIT), MNIST (LeCun, Cortes, Burges) and US census first names, shipped with the page. Nothing you do here leaves your browser." / "数据：Fashion-MNIST（Zalando,MIT 许可）、MNIST（LeCun、Cortes、Burges）和美国人口普查的名字，随页面一起提供。你在这里做的一切都不会离开你的浏览器。";
    // The playground's own images: a folder with one sub-folder per class.
    IMAGES_TITLE = "Your own images" / "你自己的图像";
    IMAGES_FOLDER = "Your folder of images" / "你的图像文件夹";
    IMAGES_SHAPE = "Model input" / "模型输入";
    IMAGES_GREY = "28×28 grey" / "28×28 灰度";
    IMAGES_COLOUR = "32×32 colour" / "32×32 彩色";
    IMAGES_HINT = "PNG or JPEG images, one sub-folder per class (the sub-folder's name is the class name). Choose the folder or drop it here; your browser decodes and resizes the images, and nothing is sent anywhere. 20 % of each class is held out for testing, split by the seed; at most 10 000 images." / "PNG 或 JPEG 图像，每个类别一个子文件夹（子文件夹的名字就是类别名）。选择文件夹或把它拖到这里；图像由你的浏览器解码并缩放，不会发送到任何地方。每个类别留出 20 % 用于测试，按随机种子划分；最多 10 000 张。";
    IMAGES_DROP = "Drop a folder here" / "把文件夹拖到这里";
    IMAGES_READING = "reading the images…" / "正在读取图像…";
    IMAGES_COUNT = "images" / "张";
}

// The class view (`widgets/class_view.rs`).
messages! {
    CLASS_DROP = "Drop the class's JSON files here: run exports (one or many runs each) and device reports." / "把全班的 JSON 文件拖到这里：运行导出文件（每个含一次或多次运行）和设备报告。";
    CLASS_PICK = "Or choose them:" / "或者选择文件：";
    CLASS_LOCAL = "The files are read in this browser; nothing is uploaded." / "文件只在这个浏览器里读取；不会上传任何东西。";
    CLASS_CLEAR = "Clear all files" / "清除所有文件";
    CLASS_SET_ASIDE = "Set aside (the other files are kept):" / "已放到一边（其余文件照常保留）：";
    CLASS_EACH_RUN = "each run" / "每次运行";
    CLASS_ACCURACY_AXIS = "test accuracy (%)" / "测试准确率（%）";
    CLASS_CHART_CAPTION = "Faint lines: each run. Thick lines with dots: the mean of a configuration's runs. Shaded: from the lowest to the highest run at each epoch." / "浅色线：每次运行。带圆点的粗线：同一配置各次运行的平均。阴影：每个 epoch 最低与最高运行之间的范围。";
    CLASS_DOTS = "Final test accuracy of each run" / "每次运行最终的测试准确率";
    CLASS_RUN = "run (file · device)" / "运行（文件 · 设备）";
    CLASS_FINAL = "final" / "最终";
    CLASS_SEED = "seed" / "种子";
    CLASS_UNFINISHED = "did not finish" / "未完成";
    CLASS_FLAGGED = "not the lesson's preset:" / "不是课程的预设：";
    CLASS_TRIAL = "a trial run (smoke test), too short to show the lesson's effect" / "试运行（冒烟测试），太短，看不出课程所讲的效果";
    CLASS_NOT_PRESET = "not a preset configuration" / "不是预设的配置";
    CLASS_DEVICES = "The class's devices (training step in ms)" / "全班的设备（每个训练步的毫秒数）";
    CLASS_FILE = "file" / "文件";
    CLASS_KERNEL_CHECK = "kernel check" / "算子检查";
    CLASS_NOT_CHECKED = "not checked (no GPU)" / "未检查（没有 GPU）";
    CLASS_NO_GPU = "none" / "无";
}
