package dev.lorastream.sink.internal;

import java.util.ArrayList;
import java.util.List;

/** A plain-text table: a header, a rule, rows, a rule and a totals row; the first column left-aligned, the others right-aligned. */
public final class TextTable {
    private final List<String> header;
    private final List<List<String>> rows = new ArrayList<>();
    private List<String> totals;

    public TextTable(String... header) { this.header = List.of(header); }

    public TextTable row(List<String> cells) {
        if (cells.size() != header.size()) throw new IllegalArgumentException("row has " + cells.size() + " cells, header " + header.size());
        rows.add(List.copyOf(cells));
        return this;
    }

    public TextTable totals(List<String> cells) {
        if (cells.size() != header.size()) throw new IllegalArgumentException("totals have " + cells.size() + " cells, header " + header.size());
        totals = List.copyOf(cells);
        return this;
    }

    public String render() {
        int[] width = new int[header.size()];
        List<List<String>> all = new ArrayList<>(rows);
        all.add(header);
        if (totals != null) all.add(totals);
        for (List<String> r : all) for (int i = 0; i < width.length; i++) width[i] = Math.max(width[i], r.get(i).length());
        StringBuilder out = new StringBuilder();
        line(out, header, width);
        rule(out, width);
        for (List<String> r : rows) line(out, r, width);
        if (totals != null) {
            rule(out, width);
            line(out, totals, width);
        }
        return out.toString();
    }

    private static void line(StringBuilder out, List<String> cells, int[] width) {
        StringBuilder l = new StringBuilder();
        for (int i = 0; i < width.length; i++) {
            if (i > 0) l.append("  ");
            String cell = cells.get(i);
            String pad = " ".repeat(width[i] - cell.length());
            l.append(i == 0 ? cell + pad : pad + cell);
        }
        out.append(l.toString().stripTrailing()).append('\n');
    }

    private static void rule(StringBuilder out, int[] width) {
        StringBuilder l = new StringBuilder();
        for (int i = 0; i < width.length; i++) {
            if (i > 0) l.append("  ");
            l.append("-".repeat(width[i]));
        }
        out.append(l).append('\n');
    }
}
