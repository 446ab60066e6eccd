fn main() {
    let s = gauntlet::sim::Scenario::lab(1, &[('A', 0), ('B', 1000)]);
    let r = gauntlet::sim::run(&s);
    print!("{}", r.history.render());
    println!("{:?} {}ms", r.end, r.sim_ms);
    for seed in 0..20 {
        let s = gauntlet::sim::Scenario::generate(seed);
        let r = gauntlet::sim::run(&s);
        println!(
            "seed {seed}: {:?} {}ms events={} nodes={} faults={}",
            r.end,
            r.sim_ms,
            r.history.len(),
            s.cluster.nodes.len(),
            s.faults.events.len()
        );
    }
}
