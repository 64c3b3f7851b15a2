"""The note's tables, typed again by hand from shared/seed/000_e770c63dcf4fd409.txt.

This is an independent transcription used only by the tests: it is never read from
the data files in stager/rules/, so a wrong cell in either one fails a test.
"""

# Section 4 PULSE 22 GL ET WL: terminal columns, then for each kit the OK terminals.
P22_TERMINALS = [241, 309, 310, 311, 312, 313, 400]
P22_OK = {
    212: {241},
    310: {309},
    311: {309, 310},
    312: {310},
    313: {310},
    315: {311},
    316: {311},
    317: {312},
    318: {312, 313},
    400: {400},
}

# Section 5 PULSE 50.
P50_TERMINALS = [220, 307, 308, 309, 310, 311, 313, 400]
P50_OK = {
    212: {220},
    311: {307},
    312: {307},
    313: {307},
    315: {308},
    316: {309},
    317: {310},
    318: {311, 313},
    400: {400},
}

# Section 6 PULSE WB-AC.
WBAC_TERMINALS = [123, 124, 200]
WBAC_OK = {
    311: {123},
    312: {123},
    313: {123},
    315: {123},
    316: {123},
    317: {124},
    318: {124},
    400: {200},
}

TABLES = {
    "p22": (P22_TERMINALS, P22_OK),
    "p50": (P50_TERMINALS, P50_OK),
    "wbac": (WBAC_TERMINALS, WBAC_OK),
}


def all_cells():
    """(model, kit, terminal, ok) for every cell of the three tables."""
    for model, (terminals, ok) in TABLES.items():
        for kit, allowed in ok.items():
            for terminal in terminals:
                yield model, kit, terminal, terminal in allowed


# Section 7.1 (F3426) and 7.2 (F3X26Q): router version -> kit class -> (ok, note).
# Classes: "2XX", "3XX" (300-315), "316+" (316 and later, 400 included).
ROUTERS = {
    "f3426": {
        7: {"2XX": (True, None), "3XX": (False, None), "316+": (False, None)},
        8: {"2XX": (False, None), "3XX": (True, None), "316+": (True, None)},
        9: {"2XX": (False, None), "3XX": (False, None), "316+": (True, 1)},
    },
    "f3x26q": {
        7: {"2XX": (True, None), "3XX": (False, None), "316+": (False, None)},
        8: {"2XX": (False, None), "3XX": (True, None), "316+": (True, 2)},
        9: {"2XX": (False, None), "3XX": (True, 3), "316+": (True, None)},
    },
}
NOTE_CODES = {1: "static-lan-ip", 2: "multi-operator-sim", 3: "dhcp-4g"}

# Kits of each class that exist in a model table (p22 has them all), edges included.
CLASS_KITS = {"2XX": [212], "3XX": [310, 311, 312, 313, 315], "316+": [316, 317, 318, 400]}
