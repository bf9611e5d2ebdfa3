"""labfile.py: the .lab reader shared by the analysis scripts (grid-ceiling.py,
boundary-offsets.py, root-errors.py). Standard library only."""


def read_lab(path):
    """The segments of a .lab file as (start, end, label), in file order; lines
    with fewer than three fields are skipped."""
    segments = []
    with open(path) as f:
        for line in f:
            fields = line.split()
            if len(fields) >= 3:
                segments.append((float(fields[0]), float(fields[1]), fields[2]))
    return segments
