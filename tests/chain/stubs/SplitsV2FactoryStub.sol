// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// A test stand-in for the canonical 0xSplits v2 split factory, written by us from its documented
// interface (createSplitDeterministic / predictDeterministicAddress / isDeployed, the Split struct,
// the SplitCreated event): the chain service calls it by address on public chains, and nothing of
// theirs can run here. Its splits only remember what they were created with, so a test can read
// back exactly what the service sent.

struct Split {
    address[] recipients;
    uint256[] allocations;
    uint256 totalAllocation;
    uint16 distributionIncentive;
}

contract StubSplitWallet {
    address[] public recipients;
    uint256[] public allocations;
    uint256 public totalAllocation;
    uint16 public distributionIncentive;
    address public owner;

    function initialize(Split calldata params, address owner_) external {
        require(totalAllocation == 0, "initialized");
        recipients = params.recipients;
        allocations = params.allocations;
        totalAllocation = params.totalAllocation;
        distributionIncentive = params.distributionIncentive;
        owner = owner_;
    }

    receive() external payable {}
}

contract SplitsV2FactoryStub {
    event SplitCreated(address indexed split, Split splitParams, address owner, address creator, bytes32 salt);

    error InvalidSplit_TotalAllocationMismatch();
    error InvalidSplit_LengthMismatch();

    function createSplitDeterministic(Split calldata params, address owner, address creator, bytes32 salt)
        external
        returns (address split)
    {
        if (params.recipients.length != params.allocations.length) revert InvalidSplit_LengthMismatch();
        uint256 sum;
        for (uint256 i; i < params.allocations.length; ++i) sum += params.allocations[i];
        if (sum != params.totalAllocation) revert InvalidSplit_TotalAllocationMismatch();
        StubSplitWallet wallet = new StubSplitWallet{salt: _salt(params, owner, salt)}();
        wallet.initialize(params, owner);
        split = address(wallet);
        emit SplitCreated(split, params, owner, creator, salt);
    }

    function predictDeterministicAddress(Split calldata params, address owner, bytes32 salt)
        public
        view
        returns (address)
    {
        bytes32 codeHash = keccak256(type(StubSplitWallet).creationCode);
        bytes32 digest = keccak256(abi.encodePacked(bytes1(0xff), address(this), _salt(params, owner, salt), codeHash));
        return address(uint160(uint256(digest)));
    }

    function isDeployed(Split calldata params, address owner, bytes32 salt)
        external
        view
        returns (address split, bool exists)
    {
        split = predictDeterministicAddress(params, owner, salt);
        exists = split.code.length > 0;
    }

    function _salt(Split calldata params, address owner, bytes32 salt) private pure returns (bytes32) {
        return keccak256(abi.encode(params, owner, salt));
    }
}
