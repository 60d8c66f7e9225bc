"""A sandbox Bitrix24 cloud portal with its OAuth server (see README "The sandbox portal")."""
