//! `childgen changes --diff`: every input form, normalised.

use crate::snapshot;
use crate::support::TestEnv;

#[test]
fn normalises_every_form_and_quotes_like_git() {
    let env = TestEnv::new();
    env.write(
        "mixed.txt",
        "M\tpipelines/p/s/b.yaml\r\nR087\tpipelines/p/s/old.py\tpipelines/p/t/new.py\r\n\r\nA\t\"pipelines/caf\\303\\251/s/x.yaml\"\r\nD\tpipelines/p/s/b.yaml\r\n",
    );
    snapshot!("changes_mixed", env.run(&["changes", "--diff", "mixed.txt"]));
}

#[test]
fn reads_nul_separated_and_name_only_output() {
    let env = TestEnv::new();
    env.write("z.bin", b"M\0with space/a.yaml\0R100\0a\0b\0".as_slice());
    env.write("names.txt", "pipelines/p/s/a.yaml\npipelines/p/s/b.yaml\n");
    let z = env.run(&["changes", "--diff", "z.bin"]).success();
    assert_eq!(z.stdout, "R100\ta\tb\nM\twith space/a.yaml\n");
    let names = env.run(&["changes", "--diff", "names.txt"]).success();
    assert_eq!(names.stdout, "M\tpipelines/p/s/a.yaml\nM\tpipelines/p/s/b.yaml\n");
}
