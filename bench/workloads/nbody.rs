//! The n-body simulation (Computer Language Benchmarks Game), N steps (default 5 000 000).
const PI: f64 = std::f64::consts::PI;
const SOLAR_MASS: f64 = 4.0 * PI * PI;
const DAYS_PER_YEAR: f64 = 365.24;

#[derive(Clone, Copy)]
struct Body { x: [f64; 3], v: [f64; 3], m: f64 }

fn bodies() -> [Body; 5] {
    let b = |x: [f64; 3], v: [f64; 3], m: f64| Body { x, v: v.map(|c| c * DAYS_PER_YEAR), m: m * SOLAR_MASS };
    [
        b([0.0; 3], [0.0; 3], 1.0),
        b([4.84143144246472090e+00, -1.16032004402742839e+00, -1.03622044471123109e-01], [1.66007664274403694e-03, 7.69901118419740425e-03, -6.90460016972063023e-05], 9.54791938424326609e-04),
        b([8.34336671824457987e+00, 4.12479856412430479e+00, -4.03523417114321381e-01], [-2.76742510726862411e-03, 4.99852801234917238e-03, 2.30417297573763929e-05], 2.85885980666130812e-04),
        b([1.28943695621391310e+01, -1.51111514016986312e+01, -2.23307578892655734e-01], [2.96460137564761618e-03, 2.37847173959480950e-03, -2.96589568540237556e-05], 4.36624404335156298e-05),
        b([1.53796971148509165e+01, -2.59193146099879641e+01, 1.79258772950371181e-01], [2.68067772490389322e-03, 1.62824170038242295e-03, -9.51592254519715870e-05], 5.15138902046611451e-05),
    ]
}

fn energy(b: &[Body; 5]) -> f64 {
    let mut e = 0.0;
    for i in 0..5 {
        e += 0.5 * b[i].m * b[i].v.iter().map(|v| v * v).sum::<f64>();
        for j in i + 1..5 {
            let d: f64 = (0..3).map(|k| (b[i].x[k] - b[j].x[k]).powi(2)).sum::<f64>().sqrt();
            e -= b[i].m * b[j].m / d;
        }
    }
    e
}

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(5_000_000);
    let mut b = bodies();
    let p: [f64; 3] = std::array::from_fn(|k| b.iter().map(|x| x.v[k] * x.m).sum());
    for k in 0..3 { b[0].v[k] = -p[k] / SOLAR_MASS; }
    println!("{:.9}", energy(&b));
    for _ in 0..n {
        for i in 0..5 {
            for j in i + 1..5 {
                let d: [f64; 3] = std::array::from_fn(|k| b[i].x[k] - b[j].x[k]);
                let d2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
                let mag = 0.01 / (d2 * d2.sqrt());
                let (mi, mj) = (b[i].m, b[j].m);
                for k in 0..3 {
                    b[i].v[k] -= d[k] * mj * mag;
                    b[j].v[k] += d[k] * mi * mag;
                }
            }
        }
        for body in b.iter_mut() {
            for k in 0..3 { body.x[k] += 0.01 * body.v[k]; }
        }
    }
    println!("{:.9}", energy(&b));
}
