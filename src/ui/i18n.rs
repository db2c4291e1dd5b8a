//! The page's own words in both languages (the lessons' text lives in `www/lessons/`).
//! A message is a pair of strings; components read the current language from context.

use leptos::prelude::*;

pub use crate::course::Lang;

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

macro_rules! messages {
    ($($name:ident = $en:literal / $zh:literal;)*) => {
        $(pub const $name: Msg = Msg { en: $en, zh: $zh };)*
    };
}

messages! {
    TAGLINE = "How normalization changes training — real experiments on your own device." / "归一化如何改变训练——在你自己的设备上运行真实实验。";
    LESSONS = "Lessons" / "课程";
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
    SMOKE = "Smoke test (seconds; shows it runs)" / "冒烟测试（几秒；只检查能否运行）";
    QUICK = "Quick" / "快速";
    FULL = "Full (the notes' settings)" / "完整（笔记中的设置）";
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
    STOPPED = "stopped" / "已停止";
    NOT_LEARNING = "not learning" / "没有学习";
    DIVERGED = "diverged" / "发散";
    LOG_SCALE = "Logarithmic loss axis" / "损失用对数坐标";
    EPOCH_AXIS = "epoch" / "epoch";
    LOSS_AXIS = "training loss (cross-entropy, nats)" / "训练损失（交叉熵，nat）";
    ACCURACY_AXIS = "test accuracy, eval mode (%)" / "测试准确率，评估模式（%）";
    CHART_CAPTION = "Thin lines: loss of each training batch. Thick lines with dots: mean loss of each epoch. Dashed lines with triangles: test accuracy after each epoch (right axis, eval mode)." / "细线：每个训练批的损失。带圆点的粗线：每个 epoch 的平均损失。带三角的虚线：每个 epoch 后的测试准确率（右轴，评估模式）。";
    WITH_BN = "with BatchNorm" / "有 BatchNorm";
    WITHOUT_BN = "without BatchNorm" / "无 BatchNorm";
    STORED_LOST = "Stored results could not be read and were set aside" / "无法读取已保存的结果，已将其搁置";
    SETTINGS_IGNORED = "Some settings in the link were ignored" / "链接中的部分设置被忽略了";
    STEPS_PER_SEC = "steps/s" / "步/秒";
    STEPS = "steps" / "步";
    PREPARING = "loading the data and building the model…" / "正在加载数据并构建模型…";
    LEFT = "left" / "剩余";
    FOOTER = "Data: Fashion-MNIST (Zalando, MIT), MNIST (LeCun, Cortes, Burges) and US census first names, shipped with the page. Nothing you do here leaves your browser." / "数据：Fashion-MNIST（Zalando,MIT 许可）、MNIST（LeCun、Cortes、Burges）和美国人口普查的名字，随页面一起提供。你在这里做的一切都不会离开你的浏览器。";
}
