"""VOST (TRI-ML/VOST): a DAVIS-like root with ``frame00000.jpg`` frames, sparse masks and a 255 ignore region."""
