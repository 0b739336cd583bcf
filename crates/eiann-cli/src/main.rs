//! The `eiann` command-line tool (train, evaluate, inspect).
fn main() {
    eprintln!("eiann: no subcommands yet");
    std::process::exit(2);
}
