"""How a value a person types (``--grid style=dj``, a field of the synthesize page) becomes a
condition or control value. The command line and the page share it, so a job made on either
has the same items' keys, hence the same stimuli."""


def number_or_text(text: str):
    """'1.2' → 1.2, '0' → 0, 'dj' → "dj"."""
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text
