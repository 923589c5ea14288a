// Oracle for irflow's Anserini-style run writing (search/bm25.AdjustScoreTies,
// ir/trec.AppendJavaFixed): runs Anserini 1.5.0's own ScoreTiesAdjusterReranker
// (through reflection, so that JDK 17's javac compiles this file although the
// fatjar's classes need Java 21) and Java's String.format("%f") on seeded
// random inputs, and prints inputs and outputs as float bit patterns.
//
//   scripts/oracle/anserini/ties-oracle.sh   (compiles, runs, writes the fixtures)
//
// Output, one case per line:
//   ties IN_BITS,... OUT_BITS,...     a ranked list of scores and Anserini's adjusted scores
//   fmt BITS TEXT                     a float and Java's "%f" of it (Locale.US)
import java.lang.reflect.Array;
import java.lang.reflect.Method;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Random;

public class TiesOracle {
  public static void main(String[] args) throws Exception {
    Class<?> scoredDocs = Class.forName("io.anserini.search.ScoredDocs");
    Class<?> document = Class.forName("org.apache.lucene.document.Document");
    Object adjuster = Class.forName("io.anserini.rerank.lib.ScoreTiesAdjusterReranker").getDeclaredConstructor().newInstance();
    Method rerank = null;
    for (Method m : adjuster.getClass().getMethods()) {
      if (m.getName().equals("rerank") && m.getParameterCount() == 2) {
        rerank = m;
      }
    }
    Random rnd = new Random(20261205L);
    LinkedHashSet<Float> printed = new LinkedHashSet<>(); // distinct values
    for (int c = 0; c < 300; c++) {
      int n = 1 + rnd.nextInt(60);
      float[] in = new float[n];
      float s = c < 20 ? rnd.nextFloat() * 0.01f : rnd.nextFloat() * (c % 3 == 0 ? 60f : 12f);
      for (int i = 0; i < n; i++) {
        in[i] = s;
        switch (rnd.nextInt(6)) {
          case 0: case 1: break;                                  // an exact tie
          case 2: s -= rnd.nextFloat() * 2e-4f; break;            // near the 1e-4 grid
          case 3: s -= 1e-4f * (1 + rnd.nextInt(2)); break;       // one or two grid steps
          case 4: s = Math.nextDown(s); break;                    // one ulp
          default: s -= rnd.nextFloat() * 0.3f;
        }
        if (s < 0) s = 0;
      }
      Object docs = scoredDocs.getDeclaredConstructor().newInstance();
      scoredDocs.getField("scores").set(docs, in.clone());
      scoredDocs.getField("lucene_documents").set(docs, Array.newInstance(document, n));
      float[] out = (float[]) scoredDocs.getField("scores").get(rerank.invoke(adjuster, docs, null));
      StringBuilder b = new StringBuilder("ties ");
      for (int i = 0; i < n; i++) b.append(i > 0 ? "," : "").append(Integer.toHexString(Float.floatToRawIntBits(in[i])));
      b.append(' ');
      for (int i = 0; i < n; i++) {
        b.append(i > 0 ? "," : "").append(Integer.toHexString(Float.floatToRawIntBits(out[i])));
        printed.add(out[i]);
      }
      System.out.println(b);
    }
    // Java's "%f": the adjusted scores above, halves at the 7th decimal
    // (odd multiples of 1/128 and 1/2^k), carries, signs, magnitudes.
    float[] edge = {0f, -0f, 1e-6f, -1e-6f, 4e-7f, -4e-7f, 5e-7f, 0.0078125f, 22.0078125f, 3.5078125f, 0.5f,
        9.9999995f, 9.999999f, 99.99999f, 0.99999994f, 1f, 123456.79f, 1e10f, 3.4028235e38f, 1.4e-45f,
        Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
    for (float f : edge) printed.add(f);
    for (int j = 1; j < 4096; j += 2) printed.add(j / 128f + rnd.nextInt(40));
    for (int i = 0; i < 1500; i++) {
      printed.add((float) (rnd.nextDouble() * Math.pow(10, rnd.nextInt(12) - 6)) * (rnd.nextBoolean() ? 1 : -1));
    }
    for (float f : printed) {
      System.out.println("fmt " + Integer.toHexString(Float.floatToRawIntBits(f)) + " " + String.format(Locale.US, "%f", f));
    }
  }
}
